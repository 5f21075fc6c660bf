import {
  connect,
  type BackoffOptions,
  type MarkedEvent,
  type NotificationsClient,
  type StateEvent,
  type TokenSource,
} from '@rtnotify/client';
import type { InboxStatus, Notification, NotificationCounts } from '@rtnotify/protocol';
import { html, LitElement, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { clearCache, readCache, writeCache } from './cache.js';
import { InboxHttp } from './http.js';
import { PreferencesView } from './preferences-view.js';
import { inboxStyles } from './styles.js';
import { mergeStrings, relativeTime, type InboxStrings, type InboxTab } from './strings.js';

/** What a template makes of a notification: a title, a body, and where activating it leads. */
export interface NotificationContent {
  title: string;
  body?: string;
  /** Opened when the item is activated (Enter or click); the `rtnotify-activate` event says so too. */
  url?: string;
}

/** A template for one notification type: plain data, escaped when shown. */
export type NotificationTemplate = (notification: Notification) => NotificationContent;

/**
 * Renders an item's content itself: anything Lit renders (a string, a `TemplateResult`, a DOM node).
 * Takes precedence over `templates`.
 */
export type NotificationRenderer = (
  notification: Notification,
  content: NotificationContent,
) => unknown;

type View = 'loading' | 'ready' | 'error';

const TAB_STATUS: Record<InboxTab, InboxStatus> = {
  inbox: 'inbox',
  unread: 'unread',
  archived: 'archived',
};
const TABS: InboxTab[] = ['inbox', 'unread', 'archived'];

const BELL_ICON = html`<svg viewBox="0 0 24 24" aria-hidden="true" fill="currentColor">
  <path
    d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
  />
</svg>`;

const PREFERENCES_ICON = html`<svg viewBox="0 0 24 24" aria-hidden="true" fill="currentColor">
  <path
    d="M3 17v2h6v-2H3zM3 5v2h10V5H3zm10 16v-2h8v-2h-8v-2h-2v6h2zM7 9v2H3v2h4v2h2V9H7zm14 4v-2H11v2h10zm-6-4h2V7h4V5h-4V3h-2v6z"
  />
</svg>`;

/** The content of a notification by default: common payload fields, else its type. */
function defaultContent(notification: Notification): NotificationContent {
  const payload = notification.payload as Record<string, unknown>;
  const text = (key: string) =>
    typeof payload[key] === 'string' ? (payload[key] as string) : undefined;
  const title = text('title') ?? text('message') ?? text('text') ?? notification.type;
  const body = text('title') === undefined ? text('body') : (text('body') ?? text('message'));
  const url = text('url');
  return { title, ...(body === undefined ? {} : { body }), ...(url === undefined ? {} : { url }) };
}

/** The `sub` of a JWT, without verifying it (only to key the cache). */
function subjectOf(token: string): string | undefined {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const sub = (JSON.parse(atob(part)) as { sub?: unknown }).sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `<rtnotify-inbox>`: a bell with the unseen badge and a panel with the user's notifications
 * (Inbox / Unread / Archived, categories with counts, read/unread/archive, mark all read, endless
 * scrolling, live updates, the user's preferences per category), kept in IndexedDB so that a reload shows it before the network answers.
 *
 * @fires rtnotify-notification - a notification arrived live (`detail`: the notification)
 * @fires rtnotify-activate - an item was activated (`detail`: `{notification, content}`); cancel it
 *   to route yourself instead of following `content.url`
 * @fires rtnotify-counts - the counts changed (`detail`: unread and unseen, in total and per category)
 * @fires rtnotify-state - the connection changed (`detail`: the client's `StateEvent`)
 * @fires rtnotify-error - something failed (`detail`: `{code, message}`)
 * @fires rtnotify-preferences - a preference was saved (`detail`: the user's whole preferences)
 * @csspart bell - the bell button
 * @csspart badge - the unseen count on the bell
 * @csspart panel - the panel
 * @csspart tabs - the tab list; `tab` each tab
 * @csspart categories - the category filter; `chip` each chip
 * @csspart list - the list; `item` each item; `item-title`, `item-body`, `item-time`, `action`
 * @csspart state - the empty, loading, offline and error messages
 * @csspart preferences - the preferences view; `preference` each category's group, `switch` each
 *   switch
 */
export class RtnotifyInbox extends LitElement {
  static override styles = inboxStyles;

  static override properties = {
    gatewayUrl: { attribute: 'gateway-url' },
    apiBase: { attribute: 'api-base' },
    userId: { attribute: 'user-id' },
    pageSize: { attribute: 'page-size', type: Number },
    theme: { reflect: true },
    inline: { type: Boolean, reflect: true },
    open: { type: Boolean, reflect: true },
    token: { attribute: false },
    templates: { attribute: false },
    renderer: { attribute: false },
    strings: { attribute: false },
    backoff: { attribute: false },
    categories: { attribute: false },
    tab: { state: true },
    category: { state: true },
    items: { state: true },
    counts: { state: true },
    view: { state: true },
    connection: { state: true },
    loadingMore: { state: true },
    announcement: { state: true },
    activeId: { state: true },
    page: { state: true },
  };

  /** The gateway's WebSocket endpoint (relative to the page, or absolute). */
  gatewayUrl = '/ws';
  /** Where the HTTP inbox is (`<apiBase>/v1/me/…`); the page's origin by default. */
  apiBase = '';
  /** Keys the offline cache; by default the token's `sub`. */
  userId: string | undefined;
  pageSize = 20;
  /** `light`, `dark`, or `auto` (follows `prefers-color-scheme`). */
  theme: 'light' | 'dark' | 'auto' = 'auto';
  /** The panel is always shown, in the page's flow, without the bell. */
  inline = false;
  /** The panel is open. */
  open = false;
  /** The user's JWT, or a function that returns one (asked again when one is refused or expires). */
  token: TokenSource | undefined;
  /** Content by notification type; `*` for every other type. */
  templates: Record<string, NotificationTemplate> = {};
  /** Renders an item's content itself (instead of the title and body of `templates`). */
  renderer: NotificationRenderer | undefined;
  /** Replacements for any of the visible strings. */
  strings: Partial<InboxStrings> | undefined;
  /** Reconnect waits of the client (`{baseMs, capMs}`). */
  backoff: Partial<BackoffOptions> | undefined;
  /** Categories always offered by the filter, besides those seen in the counts and the items. */
  categories: string[] = [];

  protected tab: InboxTab = 'inbox';
  protected category = '';
  protected items: Notification[] = [];
  protected counts: NotificationCounts | undefined;
  protected view: View = 'loading';
  protected connection: 'connecting' | 'open' | 'closed' = 'connecting';
  protected loadingMore = false;
  protected announcement = '';
  protected activeId: string | undefined;
  /** What the panel shows: the notifications, or the user's preferences. */
  protected page: 'inbox' | 'preferences' = 'inbox';

  private client: NotificationsClient | undefined;
  private readonly preferences = new PreferencesView(
    this,
    () => this.client,
    (name, detail) => this.fire(name, detail),
  );
  private http: InboxHttp | undefined;
  private cacheKey: string | undefined;
  private nextCursor: string | null = null;
  /** Bumped by every new listing and by `signOut()`, so late answers are dropped. */
  private generation = 0;
  private started = false;
  private hadCache = false;
  private fetchedOnce = false;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private observer: IntersectionObserver | undefined;
  private clock: ReturnType<typeof setInterval> | undefined;
  /** What happened live while a listing was on its way, to replay onto its answer. */
  private duringFetch: LiveChanges | undefined;

  /** The live client (for a host that wants its events or methods too). */
  get notificationsClient(): NotificationsClient | undefined {
    return this.client;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    document.addEventListener('click', this.onDocumentClick, true);
    // Relative times move on while the panel is shown.
    this.clock = setInterval(() => {
      if (this.open || this.inline) this.requestUpdate();
    }, 30_000);
    void this.start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener('click', this.onDocumentClick, true);
    clearInterval(this.clock);
    this.observer?.disconnect();
    this.stop();
  }

  protected override willUpdate(changed: PropertyValues): void {
    if (changed.has('counts') && this.counts) this.fire('rtnotify-counts', this.counts);
    if (changed.has('token') && this.token !== undefined && !this.started && this.isConnected) {
      void this.start();
    }
    if (changed.has('open') && changed.get('open') !== undefined) this.onOpenChanged();
    if (changed.has('open') && !this.open) this.page = 'inbox';
  }

  protected override updated(): void {
    const sentinel = this.renderRoot.querySelector('.more');
    this.observer?.disconnect();
    if (sentinel && typeof IntersectionObserver === 'function') {
      const root = this.renderRoot.querySelector('.scroller');
      this.observer = new IntersectionObserver(
        (entries) => {
          if (entries.some((entry) => entry.isIntersecting)) void this.loadMore();
        },
        { root },
      );
      this.observer.observe(sentinel);
    }
  }

  /** Opens the panel (marks everything seen). */
  show(): void {
    this.open = true;
  }

  /** Opens the panel on the user's preferences (a switch per category, saved as they change). */
  showPreferences(): void {
    this.open = true;
    this.page = 'preferences';
    void this.preferences.load();
    void this.updateComplete.then(() => this.focusHeading());
  }

  /** Closes the panel and gives the focus back to the bell. */
  hide(): void {
    if (!this.open) return;
    this.open = false;
    void this.updateComplete.then(() => this.bellButton()?.focus());
  }

  /**
   * Signs the user out: closes the connection and clears the user's cache. Setting `token` again
   * (for the next user) starts over.
   */
  async signOut(): Promise<void> {
    const key = this.cacheKey;
    this.stop();
    this.items = [];
    this.counts = undefined;
    this.view = 'loading';
    this.open = false;
    this.page = 'inbox';
    this.preferences.reset();
    this.token = undefined;
    if (key) await clearCache(key);
  }

  /** Lists the current tab and category again from the HTTP inbox. */
  async refresh(): Promise<void> {
    await this.fetchPage(false);
  }

  private async start(): Promise<void> {
    if (this.started || this.token === undefined) return;
    this.started = true;
    const generation = ++this.generation;
    const token = this.token;
    let first: string | undefined;
    const tokenOf = async (fresh: boolean): Promise<string> => {
      if (typeof token === 'string') return token;
      if (first !== undefined && !fresh) return first;
      first = await token();
      return first;
    };
    this.http = new InboxHttp(this.apiBase, tokenOf);
    let userKey = this.userId;
    if (userKey === undefined) {
      try {
        userKey = subjectOf(await tokenOf(false));
      } catch {
        userKey = undefined;
      }
    }
    if (generation !== this.generation) return;
    this.cacheKey = userKey === undefined ? undefined : `${this.apiBase}|${userKey}`;
    const cached = this.cacheKey ? await readCache(this.cacheKey) : undefined;
    if (generation !== this.generation) return;
    if (cached) {
      this.hadCache = true;
      this.items = cached.items;
      this.nextCursor = cached.nextCursor;
      this.counts = cached.counts;
      this.view = 'ready';
    }
    const client = connect({
      url: this.gatewayUrl,
      apiUrl: this.apiBase || '/',
      token: typeof token === 'string' ? token : () => tokenOf(true),
      ...(cached?.lastId ? { since: cached.lastId } : {}),
      ...(this.backoff ? { backoff: this.backoff } : {}),
    });
    this.client = client;
    client.on('state', (event) => this.onState(event));
    let readies = 0;
    client.on('ready', () => {
      readies += 1;
      // Without a cache, the first page comes over HTTP; with one, the replay brings the gap. On a
      // reconnect within the session, states may have changed meanwhile (another tab read or
      // archived): the view is listed again, quietly.
      if (readies === 1 && !this.hadCache && !this.fetchedOnce) void this.fetchPage(false);
      else if (readies > 1) void this.fetchPage(false, true);
      this.scheduleSave();
    });
    client.on('truncated', () => void this.fetchPage(false));
    client.on('counts', (counts) => {
      if (this.duringFetch) this.duringFetch.counts = true;
      this.counts = counts;
      this.scheduleSave();
    });
    client.on('notification', ({ notification, replayed }) =>
      this.onNotification(notification, replayed),
    );
    client.on('marked', (event) => this.applyMarked(event));
    client.on('removed', ({ ids }) => {
      this.duringFetch?.removed.push(...ids);
      const gone = new Set(ids);
      this.items = this.items.filter((item) => !gone.has(item.id));
      this.scheduleSave();
    });
    client.on('error', (error) =>
      this.fire('rtnotify-error', { code: error.code, message: error.message }),
    );
  }

  private stop(): void {
    this.generation += 1;
    this.started = false;
    this.hadCache = false;
    this.fetchedOnce = false;
    this.client?.close();
    this.client = undefined;
    this.http = undefined;
    if (this.saveTimer !== undefined) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
  }

  private onState(event: StateEvent): void {
    this.connection = event.state;
    this.fire('rtnotify-state', event);
    if (event.state === 'closed' && this.view === 'loading' && !event.final) {
      // No cache and no network: say so rather than spin.
      this.view = this.items.length > 0 ? 'ready' : 'error';
    }
  }

  private onNotification(notification: Notification, replayed: boolean): void {
    this.duringFetch?.arrived.push(notification);
    this.placeArrival(notification);
    if (this.open && !notification.seen) {
      this.client?.markSeen([notification.id]);
    }
    if (!replayed) {
      this.announcement = this.str.announce(this.contentOf(notification).title);
    }
    this.fire('rtnotify-notification', notification);
    this.scheduleSave();
  }

  /** A new notification goes on top when the view shows it; the one it replaces goes. */
  private placeArrival(notification: Notification): void {
    const rest = this.items.filter(
      (item) => item.id !== notification.id && item.id !== notification.replaces,
    );
    this.items = this.matchesView(notification) ? [notification, ...rest] : rest;
  }

  private matchesView(notification: Notification): boolean {
    if (this.category && notification.category !== this.category) return false;
    if (this.tab === 'archived') return notification.archived;
    if (notification.archived) return false;
    return this.tab === 'inbox' || !notification.read;
  }

  /** Applies a state change (from this tab or another) to the items shown. */
  private applyMarked(event: MarkedEvent, relist = true): void {
    this.duringFetch?.marked.push(event);
    const ids = 'ids' in event ? new Set(event.ids) : undefined;
    const selected = (item: Notification): boolean => {
      if (ids) return ids.has(item.id);
      if ('category' in event && event.category !== undefined && item.category !== event.category) {
        return false;
      }
      if ('onlyRead' in event && event.onlyRead && !item.read) return false;
      return event.as === 'unarchived' ? item.archived : !item.archived;
    };
    const next: Notification[] = [];
    for (const item of this.items) {
      if (!selected(item)) {
        next.push(item);
        continue;
      }
      const changed = { ...item };
      switch (event.as) {
        case 'read':
          changed.read = true;
          changed.seen = true;
          break;
        case 'unread':
          changed.read = false;
          break;
        case 'seen':
          changed.seen = true;
          break;
        case 'archived':
          changed.archived = true;
          changed.read = true;
          changed.seen = true;
          break;
        case 'unarchived':
          changed.archived = false;
          break;
      }
      // Archiving moves an item out of the inbox and back; reading leaves it where it is.
      if (event.as === 'archived' || event.as === 'unarchived') {
        if (this.matchesView(changed)) next.push(changed);
      } else {
        next.push(changed);
      }
    }
    this.items = next;
    this.scheduleSave();
    // Moved into this view from elsewhere (unarchived into the inbox, archived into the Archived
    // tab): items it does not have yet, so the view is listed again, quietly.
    const arriving = this.tab === 'archived' ? event.as === 'archived' : event.as === 'unarchived';
    if (
      relist &&
      arriving &&
      (!ids || [...ids].some((id) => !this.items.some((item) => item.id === id)))
    ) {
      void this.fetchPage(false, true);
    }
  }

  private async fetchPage(more: boolean, quiet = false): Promise<void> {
    const http = this.http;
    if (!http) return;
    const generation = more ? this.generation : ++this.generation;
    const live: LiveChanges = { arrived: [], marked: [], removed: [], counts: false };
    if (!more) this.duringFetch = live;
    if (more) this.loadingMore = true;
    else if (!quiet && !(this.isDefaultView() && this.hadCache && this.items.length > 0)) {
      this.view = 'loading';
    }
    try {
      const page = await http.list({
        status: TAB_STATUS[this.tab],
        ...(this.category ? { category: this.category } : {}),
        ...(more && this.nextCursor ? { before: this.nextCursor } : {}),
        limit: this.pageSize,
      });
      if (generation !== this.generation) return;
      this.fetchedOnce = true;
      if (more) {
        const known = new Set(this.items.map((item) => item.id));
        this.items = [...this.items, ...page.items.filter((item) => !known.has(item.id))];
      } else {
        // The answer may predate what arrived meanwhile: those changes are applied on top of it.
        this.duringFetch = undefined;
        this.items = page.items;
        for (const notification of live.arrived) this.placeArrival(notification);
        const removed = new Set(live.removed);
        this.items = this.items.filter((item) => !removed.has(item.id));
        for (const event of live.marked) this.applyMarked(event, false);
      }
      this.nextCursor = page.nextCursor;
      if (!live.counts) this.counts = page.counts;
      this.view = 'ready';
      if (this.open) this.markVisibleSeen();
      this.scheduleSave();
    } catch (error) {
      if (generation !== this.generation) return;
      if (!more) this.duringFetch = undefined;
      if (!more && this.items.length === 0) this.view = 'error';
      this.fire('rtnotify-error', {
        code: 'http_failed',
        message: error instanceof Error ? error.message : String(error),
      });
    } finally {
      if (generation === this.generation) this.loadingMore = false;
    }
  }

  private async loadMore(): Promise<void> {
    if (this.loadingMore || !this.nextCursor || this.view !== 'ready') return;
    await this.fetchPage(true);
  }

  private isDefaultView(): boolean {
    return this.tab === 'inbox' && this.category === '';
  }

  /** Keeps the newest page of the inbox, the counts and the resume point (debounced). */
  private scheduleSave(): void {
    if (!this.cacheKey || this.saveTimer !== undefined) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.save();
    }, 50);
  }

  private async save(): Promise<void> {
    const key = this.cacheKey;
    if (!key || !this.client) return;
    const previous = this.isDefaultView() ? undefined : await readCache(key);
    const items = this.isDefaultView()
      ? this.items.slice(0, this.pageSize)
      : (previous?.items ?? []);
    await writeCache(key, {
      version: 1,
      items,
      nextCursor: this.isDefaultView()
        ? items.length < this.items.length
          ? (items.at(-1)?.id ?? null)
          : this.nextCursor
        : (previous?.nextCursor ?? null),
      counts: this.counts,
      lastId: this.client.lastId,
      savedAt: new Date().toISOString(),
    });
  }

  private onOpenChanged(): void {
    if (this.open && this.page === 'inbox') {
      this.markVisibleSeen();
      void this.updateComplete.then(() => {
        const target =
          this.renderRoot.querySelector<HTMLElement>('.tab[aria-selected="true"]') ??
          this.renderRoot.querySelector<HTMLElement>('.panel');
        target?.focus();
      });
    }
  }

  private markVisibleSeen(): void {
    if ((this.counts?.unseen ?? 0) > 0 || this.items.some((item) => !item.seen)) {
      this.client?.markAllSeen();
      this.items = this.items.map((item) => (item.seen ? item : { ...item, seen: true }));
    }
  }

  private readonly onDocumentClick = (event: Event): void => {
    if (this.open && !this.inline && !event.composedPath().includes(this)) this.open = false;
  };

  private get str(): InboxStrings {
    return mergeStrings(this.strings);
  }

  private contentOf(notification: Notification): NotificationContent {
    const template = this.templates[notification.type] ?? this.templates['*'];
    if (template) {
      try {
        return template(notification);
      } catch {
        // A failing template falls back to the default content.
      }
    }
    return defaultContent(notification);
  }

  private fire(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  private focusHeading(): void {
    this.renderRoot.querySelector<HTMLElement>('#heading')?.focus();
  }

  private showInbox(): void {
    this.page = 'inbox';
    void this.updateComplete.then(() =>
      this.renderRoot.querySelector<HTMLElement>('.show-preferences')?.focus(),
    );
  }

  /** The categories of the filter and the preferences: configured, counted, listed or saved. */
  private knownCategories(): string[] {
    const names = new Set([
      ...this.categories,
      ...Object.keys(this.counts?.categories ?? {}),
      ...this.items.flatMap((item) => (item.category ? [item.category] : [])),
    ]);
    if (this.category) names.add(this.category);
    return [...names].sort();
  }

  private bellButton(): HTMLButtonElement | null {
    return this.renderRoot.querySelector<HTMLButtonElement>('.bell');
  }

  // ---- actions -------------------------------------------------------------------------------

  private selectTab(tab: InboxTab, focus = false): void {
    if (this.tab !== tab) {
      this.tab = tab;
      this.nextCursor = null;
      this.items = [];
      void this.fetchPage(false);
    }
    if (focus) {
      void this.updateComplete.then(() =>
        this.renderRoot.querySelector<HTMLElement>(`.tab[data-tab="${tab}"]`)?.focus(),
      );
    }
  }

  private selectCategory(category: string): void {
    if (this.category === category) return;
    this.category = category;
    this.nextCursor = null;
    this.items = [];
    void this.fetchPage(false);
  }

  private act(notification: Notification, as: 'read' | 'unread' | 'archived' | 'unarchived'): void {
    this.client?.mark({ as, ids: [notification.id] });
    // Shown at once; the server's `marked` (to every tab) confirms it.
    this.applyMarked({ as, ids: [notification.id], counts: this.counts ?? emptyCounts() });
  }

  private markAllRead(): void {
    const selection = this.category
      ? { as: 'read' as const, all: true as const, category: this.category }
      : { as: 'read' as const, all: true as const };
    this.client?.mark(selection);
    this.applyMarked({ ...selection, counts: this.counts ?? emptyCounts() });
  }

  private activate(notification: Notification): void {
    const content = this.contentOf(notification);
    if (!notification.read) this.act(notification, 'read');
    const event = new CustomEvent('rtnotify-activate', {
      detail: { notification, content },
      bubbles: true,
      composed: true,
      cancelable: true,
    });
    // A host that routes itself cancels the event; else a safe URL is followed.
    if (this.dispatchEvent(event) && content.url) {
      const url = safeUrl(content.url);
      if (url) window.location.assign(url);
    }
  }

  // ---- keyboard ------------------------------------------------------------------------------

  private onPanelKeydown(event: KeyboardEvent): void {
    if (event.key === 'Escape' && !this.inline) {
      event.stopPropagation();
      this.hide();
    }
  }

  private onTabKeydown(event: KeyboardEvent, index: number): void {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (step === undefined && event.key !== 'Home' && event.key !== 'End') return;
    event.preventDefault();
    const rtl = getComputedStyle(this).direction === 'rtl';
    let next = index;
    if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = TABS.length - 1;
    else next = (index + (rtl ? -step! : step!) + TABS.length) % TABS.length;
    this.selectTab(TABS[next], true);
  }

  private onItemKeydown(event: KeyboardEvent, notification: Notification): void {
    if (event.target !== event.currentTarget) return;
    const index = this.items.findIndex((item) => item.id === notification.id);
    let next: number | undefined;
    if (event.key === 'ArrowDown') next = Math.min(index + 1, this.items.length - 1);
    else if (event.key === 'ArrowUp') next = Math.max(index - 1, 0);
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = this.items.length - 1;
    else if (event.key === 'Enter') {
      event.preventDefault();
      this.activate(notification);
      return;
    }
    if (next === undefined) return;
    event.preventDefault();
    if (next === this.items.length - 1) void this.loadMore();
    this.activeId = this.items[next]?.id;
    void this.updateComplete.then(() =>
      this.renderRoot
        .querySelector<HTMLElement>(`li[data-id="${CSS.escape(this.activeId ?? '')}"]`)
        ?.focus(),
    );
  }

  // ---- rendering -----------------------------------------------------------------------------

  protected override render(): TemplateResult {
    const s = this.str;
    const unseen = this.counts?.unseen ?? 0;
    return html`
      ${
        this.inline
          ? nothing
          : html`<button
              type="button"
              class="bell"
              part="bell"
              aria-label=${s.bellLabel(unseen)}
              aria-expanded=${this.open ? 'true' : 'false'}
              aria-controls="panel"
              @click=${() => (this.open ? this.hide() : this.show())}
            >
              ${BELL_ICON}<span class="badge" part="badge" data-count=${unseen} aria-hidden="true"
                >${unseen > 99 ? '99+' : unseen}</span
              >
            </button>`
      }
      <div class="sr-only" role="status" aria-live="polite" aria-atomic="true">
        ${this.announcement}
      </div>
      ${this.open || this.inline ? this.renderPanel(s) : nothing}
    `;
  }

  private renderPanel(s: InboxStrings): TemplateResult {
    const preferences = this.page === 'preferences';
    return html`<section
      id="panel"
      class="panel"
      part="panel"
      role=${this.inline ? 'region' : 'dialog'}
      aria-labelledby="heading"
      tabindex="-1"
      data-view=${this.view}
      data-page=${this.page}
      data-connection=${this.connection}
      @keydown=${(event: KeyboardEvent) => this.onPanelKeydown(event)}
    >
      <div class="head">
        <h2 id="heading" tabindex="-1">${preferences ? s.preferencesHeading : s.heading}</h2>
        ${
          preferences
            ? html`<button
                type="button"
                class="link back"
                part="action"
                @click=${() => this.showInbox()}
              >
                ${s.back}
              </button>`
            : html`<button
                  type="button"
                  class="link mark-all"
                  part="action"
                  ?disabled=${this.tab === 'archived' || !this.items.some((item) => !item.read)}
                  @click=${() => this.markAllRead()}
                >
                  ${s.markAllRead}
                </button>
                <button
                  type="button"
                  class="link icon show-preferences"
                  part="action"
                  aria-label=${s.preferences}
                  title=${s.preferences}
                  @click=${() => this.showPreferences()}
                >
                  ${PREFERENCES_ICON}
                </button>`
        }
        ${
          this.inline
            ? nothing
            : html`<button
                type="button"
                class="link close"
                part="action"
                @click=${() => this.hide()}
              >
                ${s.close}
              </button>`
        }
      </div>
      ${preferences ? nothing : html`${this.renderTabs(s)} ${this.renderCategories(s)}`}
      ${
        this.connection === 'closed' && this.view !== 'error'
          ? html`<p class="notice offline" part="state" data-state="offline">${s.offline}</p>`
          : nothing
      }
      ${
        preferences
          ? html`<div class="scroller">
              ${this.preferences.render(
                s,
                [...new Set([...this.knownCategories(), ...this.preferences.saved])].sort(),
              )}
            </div>`
          : this.renderInbox(s)
      }
    </section>`;
  }

  private renderInbox(s: InboxStrings): TemplateResult {
    return html`<div
      class="scroller"
      id="tabpanel"
      role="tabpanel"
      aria-labelledby=${`tab-${this.tab}`}
      tabindex=${this.items.length === 0 ? '0' : '-1'}
    >
      ${this.renderBody(s)}
    </div>`;
  }

  private renderTabs(s: InboxStrings): TemplateResult {
    return html`<div class="tabs" part="tabs" role="tablist" aria-label=${s.tabsLabel}>
      ${TABS.map((tab, index) => {
        const selected = tab === this.tab;
        const count = tab === 'unread' ? (this.counts?.unread ?? 0) : 0;
        return html`<button
          type="button"
          class="tab"
          part="tab"
          role="tab"
          id=${`tab-${tab}`}
          data-tab=${tab}
          aria-selected=${selected ? 'true' : 'false'}
          aria-controls="tabpanel"
          tabindex=${selected ? '0' : '-1'}
          @click=${() => this.selectTab(tab)}
          @keydown=${(event: KeyboardEvent) => this.onTabKeydown(event, index)}
        >
          ${s.tabs[tab]}${
            tab === 'unread'
              ? html`<span class="count tab-count" data-count=${count}
                  ><span aria-hidden="true">${count}</span
                  ><span class="sr-only">${s.unreadCount(count)}</span></span
                >`
              : nothing
          }
        </button>`;
      })}
    </div>`;
  }

  private renderCategories(s: InboxStrings): TemplateResult | typeof nothing {
    const names = this.knownCategories();
    if (names.length === 0) return nothing;
    const chip = (category: string, label: string, count: number) =>
      html`<button
        type="button"
        class="chip"
        part="chip"
        data-category=${category}
        aria-pressed=${this.category === category ? 'true' : 'false'}
        @click=${() => this.selectCategory(category)}
      >
        ${label}<span class="count chip-count" data-count=${count}
          ><span aria-hidden="true">${count}</span
          ><span class="sr-only">${s.unreadCount(count)}</span></span
        >
      </button>`;
    return html`<div class="chips" part="categories" role="group" aria-label=${s.categoriesLabel}>
      ${chip('', s.allCategories, this.counts?.unread ?? 0)}
      ${names.map((name) =>
        chip(name, s.categoryName(name), this.counts?.categories[name]?.unread ?? 0),
      )}
    </div>`;
  }

  private renderBody(s: InboxStrings): TemplateResult {
    if (this.view === 'loading' && this.items.length === 0) {
      return html`<div class="state" part="state" data-state="loading" role="status">
          <span>${s.loading}</span>
        </div>
        <div class="skeleton" aria-hidden="true"></div>
        <div class="skeleton" aria-hidden="true"></div>`;
    }
    if (this.view === 'error' && this.items.length === 0) {
      const offline = this.connection === 'closed';
      return html`<div class="state" part="state" data-state=${offline ? 'offline' : 'error'}>
        <strong>${offline ? s.offline : s.error}</strong>
        <button type="button" class="link retry" part="action" @click=${() => this.refresh()}>
          ${s.retry}
        </button>
      </div>`;
    }
    if (this.items.length === 0) {
      return html`<div class="state" part="state" data-state="empty">
        ${BELL_ICON}<strong>${s.empty[this.tab]}</strong><span>${s.emptyHint}</span>
      </div>`;
    }
    const active = this.items.some((item) => item.id === this.activeId)
      ? this.activeId
      : this.items[0]?.id;
    return html`<ul
        class="list"
        id="list"
        part="list"
        aria-label=${s.tabs[this.tab]}
        aria-busy=${this.loadingMore ? 'true' : 'false'}
      >
        ${this.items.map((item) => this.renderItem(item, s, item.id === active))}
      </ul>
      ${
        this.nextCursor
          ? html`<button
              type="button"
              class="link more"
              part="action"
              ?disabled=${this.loadingMore}
              @click=${() => this.loadMore()}
            >
              ${this.loadingMore ? s.loading : s.loadMore}
            </button>`
          : nothing
      }`;
  }

  private renderItem(item: Notification, s: InboxStrings, active: boolean): TemplateResult {
    const content = this.contentOf(item);
    const created = new Date(item.createdAt);
    const now = new Date();
    const when = s.relativeTime
      ? s.relativeTime(created, now)
      : relativeTime(created, now, this.closest('[lang]')?.getAttribute('lang') || undefined);
    const actions = item.archived
      ? [['unarchive', s.unarchive, 'unarchived'] as const]
      : [
          item.read
            ? (['mark-unread', s.markUnread, 'unread'] as const)
            : (['mark-read', s.markRead, 'read'] as const),
          ['archive', s.archive, 'archived'] as const,
        ];
    return html`<li
      class="item ${item.read ? 'read' : 'unread'}"
      part="item"
      data-id=${item.id}
      data-type=${item.type}
      tabindex=${active ? '0' : '-1'}
      @keydown=${(event: KeyboardEvent) => this.onItemKeydown(event, item)}
      @focus=${() => (this.activeId = item.id)}
      @click=${(event: Event) => {
        if (!(event.target as Element).closest('button')) this.activate(item);
      }}
    >
      <span class="marker" aria-hidden="true"></span>
      <div class="content">
        ${item.read ? nothing : html`<span class="sr-only">${s.unread}: </span>`}
        ${
          this.renderer
            ? this.renderer(item, content)
            : html`<div class="title" part="item-title">${content.title}</div>
                ${content.body ? html`<div class="body" part="item-body">${content.body}</div>` : nothing}`
        }
        <div class="meta">
          <time part="item-time" datetime=${item.createdAt} title=${created.toLocaleString()}
            >${when}</time
          >
          ${item.category ? html`<span>${s.categoryName(item.category)}</span>` : nothing}
          ${
            (item.collapsedCount ?? 0) > 1
              ? html`<span class="collapsed">${s.collapsed(item.collapsedCount!)}</span>`
              : nothing
          }
        </div>
      </div>
      <div class="actions">
        ${actions.map(
          ([cls, label, as]) =>
            html`<button
              type="button"
              class="link ${cls}"
              part="action"
              @click=${() => this.act(item, as)}
            >
              ${label}
            </button>`,
        )}
      </div>
    </li>`;
  }
}

/** `url` resolved against the page when it is http(s); never `javascript:` or `data:`. */
function safeUrl(url: string): string | undefined {
  try {
    const resolved = new URL(url, window.location.href);
    return resolved.protocol === 'http:' || resolved.protocol === 'https:'
      ? resolved.href
      : undefined;
  } catch {
    return undefined;
  }
}

interface LiveChanges {
  arrived: Notification[];
  marked: MarkedEvent[];
  removed: string[];
  counts: boolean;
}

function emptyCounts(): NotificationCounts {
  return { unread: 0, unseen: 0, categories: {} };
}
