import {
  BEARER_PROTOCOL,
  CloseCode,
  ContractLimits,
  PREFERENCES_PATH,
  SINCE_QUERY_PARAM,
  TOKEN_QUERY_PARAM,
  type CategoryCounts,
  type ClientFrame,
  type MarkedEventData,
  type MarkEventData,
  type Notification,
  type NotificationCounts,
  type NotificationPreferences,
  type NotificationPreferencesPatch,
  type ReadyEventData,
  type RemovedEventData,
} from '@rtnotify/protocol';
import { backoffDelay, checkBackoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { HttpApi, type FetchLike } from './http-api.js';
import { SeenIds } from './seen-ids.js';
import { TypedEmitter } from './typed-emitter.js';
import { closeOfRefusal, upgradeRefusalOf } from './upgrade-refusal.js';
import type {
  ConnectionState,
  ConnectOptions,
  NotificationsClientEvents,
  StateEvent,
  TokenSource,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';

const OPEN = 1;

/** A state change not sent yet: v1 reads (merged while they follow each other), or any mark. */
type PendingChange =
  { kind: 'read'; all: boolean; ids: Set<string> } | { kind: 'mark'; selection: MarkEventData };

/** What a page offers for network hints; absent in Node. */
interface NetworkHints {
  navigator?: { onLine?: boolean };
  addEventListener?: (type: string, listener: () => void) => void;
  removeEventListener?: (type: string, listener: () => void) => void;
  location?: { href: string };
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike;
}

/** Sends one client frame of the protocol. */
function send(socket: WebSocketLike, frame: ClientFrame): void {
  socket.send(JSON.stringify(frame));
}

const env = (): NetworkHints => globalThis as unknown as NetworkHints;

type Timer = ReturnType<typeof setTimeout>;

/**
 * A connection to the notifications gateway that stays connected: it reconnects with exponential
 * backoff and full jitter, resumes after the last notification it saw (nothing missed, nothing twice),
 * and reports what happens as typed events. Create it with `connect()`.
 */
export class NotificationsClient extends TypedEmitter<NotificationsClientEvents> {
  private readonly WebSocketClass: WebSocketConstructor;
  private readonly backoff: BackoffOptions;
  private readonly seen = new SeenIds(1000);
  private socket: WebSocketLike | undefined;
  private http: HttpApi | undefined;
  private timer: Timer | undefined;
  /** Failed attempts since the last `ready`. */
  private attempt = 0;
  /** A 4401 was answered by asking the token function once more. */
  private retriedAuth = false;
  /** Bumped by every attempt and by `close()`, so stale sockets and tokens are ignored. */
  private generation = 0;
  private stopped = false;
  private currentState: ConnectionState = 'connecting';
  private readySeen = false;
  /** State changes made while not connected, sent in order once `ready`. */
  private pending: PendingChange[] = [];
  private lastSeenId: string | undefined;
  private unreadCount: number | undefined;
  private currentCounts: NotificationCounts | undefined;
  private currentUserId: string | undefined;
  private readonly onOnline = () => this.networkBack();

  constructor(private readonly options: ConnectOptions) {
    super();
    const WebSocketClass = options.WebSocket ?? env().WebSocket;
    if (typeof WebSocketClass !== 'function') {
      throw new TypeError(
        'connect: no WebSocket class; from Node pass one: connect({ ..., WebSocket }) with ' +
          "import WebSocket from 'ws'",
      );
    }
    if (!isUsableUrl(options.url)) {
      throw new TypeError(
        'connect: url must be a ws(s) or http(s) URL, or a path relative to the page',
      );
    }
    if (options.apiUrl !== undefined && !isUsableUrl(options.apiUrl, ['http:', 'https:'])) {
      throw new TypeError('connect: apiUrl must be an http(s) URL, or a path relative to the page');
    }
    if (typeof options.token !== 'string' && typeof options.token !== 'function') {
      throw new TypeError('connect: token must be a string or a function returning one');
    }
    this.WebSocketClass = WebSocketClass;
    this.backoff = checkBackoff({ ...DEFAULT_BACKOFF, ...options.backoff });
    this.lastSeenId = options.since || undefined;
    env().addEventListener?.('online', this.onOnline);
    // Started in a microtask, so that listeners added right after `connect()` see every event.
    queueMicrotask(() => void this.open());
  }

  /** `connecting`, `open` (live) or `closed`. */
  get state(): ConnectionState {
    return this.currentState;
  }

  /** The user's unread count as last reported by the server (undefined before the first `ready`). */
  get unread(): number | undefined {
    return this.unreadCount;
  }

  /** The signed-in user, from the last `ready`. */
  get userId(): string | undefined {
    return this.currentUserId;
  }

  /** The id the next connection resumes after. */
  get lastId(): string | undefined {
    return this.lastSeenId;
  }

  /** Unread and unseen, in total and per category, as last reported (protocol 1.1 servers). */
  get counts(): NotificationCounts | undefined {
    return this.currentCounts;
  }

  /** The bell's count: notifications not seen yet (undefined before the first `ready`). */
  get unseen(): number | undefined {
    return this.currentCounts?.unseen;
  }

  /** The counts of one category (zeros when it has nothing unread or unseen). */
  countsOf(category: string): CategoryCounts {
    return this.currentCounts?.categories[category] ?? { unread: 0, unseen: 0 };
  }

  /**
   * Marks notifications read; every tab of the user is sent the new count (`unread`) and the change
   * (`marked`). Sent at once when connected, else when the connection is back.
   */
  markRead(ids: readonly string[]): void {
    if (ids.length === 0) return;
    const last = this.pending.at(-1);
    if (last?.kind === 'read' && !last.all) {
      for (const id of ids) last.ids.add(id);
    } else {
      this.pending.push({ kind: 'read', all: false, ids: new Set(ids) });
    }
    this.flushPending();
  }

  /** Marks every notification of the user read. Sent at once when connected, else when back. */
  markAllRead(): void {
    if (this.pending.at(-1)?.kind === 'read') this.pending.pop();
    this.pending.push({ kind: 'read', all: true, ids: new Set() });
    this.flushPending();
  }

  /**
   * Sets or clears a state (protocol 1.1): `{as, ids}` or `{as, all: true, category?, onlyRead?}`.
   * Every tab of the user is sent `marked` when anything changed. Sent at once when connected, else
   * when the connection is back, in the order the changes were made.
   */
  mark(selection: MarkEventData): void {
    if ('ids' in selection && selection.ids.length === 0) return;
    this.pending.push({ kind: 'mark', selection });
    this.flushPending();
  }

  /** Marks these seen (the bell's count), leaving them unread. */
  markSeen(ids: readonly string[]): void {
    this.mark({ as: 'seen', ids: [...ids] });
  }

  /** Marks everything seen (of one category, when given): what opening the bell does. */
  markAllSeen(category?: string): void {
    this.mark(
      category === undefined ? { as: 'seen', all: true } : { as: 'seen', all: true, category },
    );
  }

  markUnread(ids: readonly string[]): void {
    this.mark({ as: 'unread', ids: [...ids] });
  }

  /** Archives these: they leave the inbox and the counts (and are marked read and seen). */
  archive(ids: readonly string[]): void {
    this.mark({ as: 'archived', ids: [...ids] });
  }

  /** Archives every read notification (of one category, when given). */
  archiveAllRead(category?: string): void {
    const selection: MarkEventData = { as: 'archived', all: true, onlyRead: true };
    if (category !== undefined) selection.category = category;
    this.mark(selection);
  }

  /** Brings these back to the inbox, in the state they had. */
  unarchive(ids: readonly string[]): void {
    this.mark({ as: 'unarchived', ids: [...ids] });
  }

  /**
   * The user's delivery preferences (`GET /v1/me/preferences`): every category with a stored
   * setting; any other is on for both. Rejects with a `NotificationsHttpError` (its `status` and the
   * server's `messages`) when the server refuses.
   */
  async getPreferences(): Promise<NotificationPreferences> {
    return this.httpApi().request<NotificationPreferences>('GET', PREFERENCES_PATH);
  }

  /**
   * Changes some of the user's preferences (`PATCH /v1/me/preferences`), e.g.
   * `{categories: {billing: {fallback: false}}}`; settings left out keep their value. Resolves to
   * the whole preferences after the change; rejects with a `NotificationsHttpError` (a 400 names what
   * is wrong in `messages`).
   */
  async updatePreferences(patch: NotificationPreferencesPatch): Promise<NotificationPreferences> {
    return this.httpApi().request<NotificationPreferences>('PATCH', PREFERENCES_PATH, patch);
  }

  /** Closes the connection for good: no reconnect; the last `state` event is `closed`, `final`. */
  close(): void {
    if (this.stopped) return;
    this.stop({
      state: 'closed',
      code: CloseCode.Normal,
      reason: 'closed by the client',
      final: true,
    });
  }

  private httpApi(): HttpApi {
    if (this.http) return this.http;
    const fetchFn = this.options.fetch ?? env().fetch?.bind(globalThis);
    if (typeof fetchFn !== 'function') {
      throw new TypeError('no fetch: pass one with connect({ ..., fetch })');
    }
    this.http = new HttpApi(apiUrlOf(this.options), this.options.token, fetchFn);
    return this.http;
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    this.clearTimer();
    const generation = ++this.generation;
    this.readySeen = false;
    this.setState({ state: 'connecting' });
    let token: string;
    try {
      token = await this.resolveToken();
    } catch (error) {
      if (generation !== this.generation) return;
      this.emit('error', {
        code: 'token_unavailable',
        message: `the token function failed: ${messageOf(error)}`,
        fatal: false,
      });
      this.retryLater(undefined, 'no token');
      return;
    }
    if (generation !== this.generation) return;
    let socket: WebSocketLike;
    try {
      socket = this.options.tokenInUrl
        ? new this.WebSocketClass(this.urlFor(token))
        : new this.WebSocketClass(this.urlFor(), [BEARER_PROTOCOL, token]);
    } catch (error) {
      this.emit('error', { code: 'connect_failed', message: messageOf(error), fatal: false });
      this.retryLater(undefined, 'could not open a socket');
      return;
    }
    this.socket = socket;
    socket.onmessage = (event: { data?: unknown }) => {
      if (this.socket === socket && typeof event.data === 'string') this.onFrame(event.data);
    };
    // A refused upgrade (401 or 403 instead of 101) counts as the close code it stands for.
    let refusedWith: number | undefined;
    socket.onclose = (event: { code?: number; reason?: string }) => {
      const { code, reason } = closeOfRefusal(refusedWith, {
        code: event.code ?? 1006,
        reason: event.reason ?? '',
      });
      this.onClose(socket, code, reason);
    };
    // Every failure is followed by `close`, which decides what to do.
    socket.onerror = (event: unknown) => {
      refusedWith ??= upgradeRefusalOf(event);
    };
  }

  private async resolveToken(): Promise<string> {
    const source: TokenSource = this.options.token;
    const token = typeof source === 'function' ? await source() : source;
    if (typeof token !== 'string' || token === '') throw new Error('it returned no token');
    return token;
  }

  private urlFor(token?: string): string {
    const base = env().location?.href;
    const url = new URL(this.options.url, base);
    if (url.protocol === 'http:') url.protocol = 'ws:';
    if (url.protocol === 'https:') url.protocol = 'wss:';
    if (this.lastSeenId) url.searchParams.set(SINCE_QUERY_PARAM, this.lastSeenId);
    else url.searchParams.delete(SINCE_QUERY_PARAM);
    if (token !== undefined) url.searchParams.set(TOKEN_QUERY_PARAM, token);
    return url.toString();
  }

  private onFrame(raw: string): void {
    let frame: { event?: unknown; data?: any };
    try {
      frame = JSON.parse(raw) as typeof frame;
    } catch {
      return;
    }
    const data = frame.data;
    if (typeof data !== 'object' || data === null) return;
    switch (frame.event) {
      case 'notification':
        this.onNotification(
          data.notification as Notification,
          data.unread as number,
          data.counts as NotificationCounts | undefined,
        );
        break;
      case 'marked':
        this.takeCounts(data.counts as NotificationCounts | undefined);
        this.emit('marked', data as MarkedEventData);
        break;
      case 'removed':
        this.takeCounts(data.counts as NotificationCounts | undefined);
        this.emit('removed', data as RemovedEventData);
        break;
      case 'ready':
        this.onReady(data as ReadyEventData);
        break;
      case 'unread':
        this.unreadCount = data.unread as number;
        this.emit('unread', { unread: this.unreadCount });
        break;
      case 'error':
        this.emit('error', {
          code: String(data.code),
          message: String(data.message),
          fatal: false,
        });
        break;
      default:
        // `pong` and events of later protocol versions.
        break;
    }
  }

  private onNotification(
    notification: Notification,
    unread: number,
    counts: NotificationCounts | undefined,
  ): void {
    if (typeof notification?.id !== 'string') return;
    if (!this.seen.add(notification.id)) return;
    this.lastSeenId = notification.id;
    this.unreadCount = unread;
    const event = { notification, unread, replayed: !this.readySeen };
    this.emit('notification', counts === undefined ? event : { ...event, counts });
    this.takeCounts(counts);
  }

  /** Keeps the counts a frame carried (absent from a v1 server) and tells listeners. */
  private takeCounts(counts: NotificationCounts | undefined): void {
    if (typeof counts !== 'object' || counts === null) return;
    this.currentCounts = counts;
    this.unreadCount = counts.unread;
    this.emit('counts', counts);
  }

  private onReady(ready: ReadyEventData): void {
    this.readySeen = true;
    this.attempt = 0;
    this.retriedAuth = false;
    if (typeof ready.cursor === 'string' && ready.cursor !== '') this.lastSeenId = ready.cursor;
    this.unreadCount = ready.unread;
    this.currentUserId = ready.userId;
    this.setState({ state: 'open' });
    this.flushPending();
    this.emit('ready', ready);
    this.takeCounts(ready.counts);
    if (ready.truncated) this.emit('truncated', ready);
  }

  private onClose(socket: WebSocketLike, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    if (this.stopped) return;
    if (code === CloseCode.OriginNotAllowed) {
      this.fail(code, reason, 'origin_not_allowed', `this page's origin is not allowed (${code})`);
      return;
    }
    if (code === CloseCode.Unauthorized) {
      if (typeof this.options.token === 'function' && !this.retriedAuth) {
        // The token may just have expired: ask for a fresh one, once, right away.
        this.retriedAuth = true;
        this.setState({ state: 'closed', code, reason, reconnectInMs: 0 });
        void this.open();
        return;
      }
      this.fail(code, reason, 'unauthorized', `the token was refused: ${reason || code}`);
      return;
    }
    this.retryLater(code, reason);
  }

  private retryLater(code: number | undefined, reason: string): void {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt, this.backoff);
    this.attempt += 1;
    this.socket = undefined;
    this.setState({ state: 'closed', code, reason, reconnectInMs: delay });
    this.clearTimer();
    this.timer = setTimeout(() => this.retryDue(), delay);
  }

  private retryDue(): void {
    this.timer = undefined;
    if (this.stopped) return;
    if (env().navigator?.onLine === false && typeof env().addEventListener === 'function') {
      // Offline: an attempt would fail. The `online` event reconnects at once; the cap is a fallback
      // in case the browser's idea of the network is wrong.
      this.timer = setTimeout(() => void this.open(), this.backoff.capMs);
      return;
    }
    void this.open();
  }

  /** The network is back: a pending wait is cut short. */
  private networkBack(): void {
    if (this.stopped || this.timer === undefined) return;
    void this.open();
  }

  private flushPending(): void {
    const socket = this.socket;
    if (this.pending.length === 0 || !socket || !this.readySeen || socket.readyState !== OPEN) {
      return;
    }
    for (const change of this.pending.splice(0)) {
      if (change.kind === 'read' && change.all) {
        send(socket, { event: 'read', data: { all: true } });
      } else if (change.kind === 'read') {
        for (const ids of chunks([...change.ids])) send(socket, { event: 'read', data: { ids } });
      } else if ('ids' in change.selection) {
        const { as } = change.selection;
        for (const ids of chunks([...new Set(change.selection.ids)])) {
          send(socket, { event: 'mark', data: { as, ids } });
        }
      } else {
        send(socket, { event: 'mark', data: change.selection });
      }
    }
  }

  private fail(code: number, reason: string, errorCode: string, message: string): void {
    this.emit('error', { code: errorCode, message, fatal: true });
    this.stop({ state: 'closed', code, reason, final: true });
  }

  private stop(event: StateEvent): void {
    this.stopped = true;
    this.generation += 1;
    this.clearTimer();
    env().removeEventListener?.('online', this.onOnline);
    const socket = this.socket;
    this.socket = undefined;
    if (socket && socket.readyState <= OPEN) socket.close(CloseCode.Normal, 'client closed');
    this.pending = [];
    this.setState(event);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private setState(event: StateEvent): void {
    this.currentState = event.state;
    this.emit('state', event);
  }
}

function isUsableUrl(url: unknown, protocols = ['ws:', 'wss:', 'http:', 'https:']): boolean {
  if (typeof url !== 'string' || url === '') return false;
  try {
    const { protocol } = new URL(url, env().location?.href);
    return protocols.includes(protocol);
  } catch {
    return false;
  }
}

/** `apiUrl` resolved against the page, else the origin of the gateway's `url` in http(s). */
function apiUrlOf(options: ConnectOptions): string {
  const base = env().location?.href;
  if (options.apiUrl !== undefined) return new URL(options.apiUrl, base).href;
  const url = new URL(options.url, base);
  const secure = url.protocol === 'wss:' || url.protocol === 'https:';
  return `${secure ? 'https' : 'http'}://${url.host}`;
}

function chunks(ids: string[]): string[][] {
  const out: string[][] = [];
  for (let start = 0; start < ids.length; start += ContractLimits.maxReadIds) {
    out.push(ids.slice(start, start + ContractLimits.maxReadIds));
  }
  return out;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Connects to the notifications gateway and stays connected until `close()`.
 *
 * @example
 * const client = connect({ url: '/ws', token: () => fetchToken() });
 * client.on('notification', ({ notification, unread }) => show(notification, unread));
 */
export function connect(options: ConnectOptions): NotificationsClient {
  return new NotificationsClient(options);
}
