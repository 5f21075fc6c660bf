import { AxeBuilder } from '@axe-core/playwright';
import { Queue, QueueEvents } from 'bullmq';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, startDemoService } from './kit/browser.js';
import type { ServiceProcess } from './kit/service.mjs';
import { signToken } from './kit/tokens.mjs';
import type {} from '@rtnotify/inbox';

// The README's screenshots; written to test-results/ unless UPDATE_SCREENSHOT=1 asks to refresh them.
const SHOTS = process.env.UPDATE_SCREENSHOT === '1' ? 'docs' : 'test-results';

/** The demo page (a showcase of `<rtnotify-inbox>`) of one user, in a browser context of its own. */
class InboxPage {
  readonly errors: string[] = [];
  /** Requests for the inbox listing, by the component. */
  listings = 0;
  /** Their addresses. */
  readonly listingUrls: string[] = [];
  /** While true, the network is cut: HTTP under /v1 fails and sockets close at once. */
  offline = false;

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {
    page.on('pageerror', (error) => this.errors.push(error.message));
  }

  static async open(browser: Browser, baseUrl: string, query = ''): Promise<InboxPage> {
    const context = await browser.newContext({
      viewport: { width: 760, height: 720 },
      reducedMotion: 'reduce',
    });
    const page = await context.newPage();
    const tab = new InboxPage(context, page);
    await context.route('**/v1/**', async (route) => {
      if (route.request().url().includes('/v1/me/notifications?')) {
        tab.listings += 1;
        tab.listingUrls.push(route.request().url());
      }
      if (tab.offline) await route.abort('internetdisconnected');
      else await route.continue();
    });
    await context.routeWebSocket(/\/ws/, (ws) => {
      if (tab.offline) void ws.close({ code: 1011, reason: 'network cut by the test' });
      else ws.connectToServer();
    });
    await page.goto(`${baseUrl}/?backoffMs=200${query}`);
    await page.waitForSelector('body[data-page="ready"]');
    return tab;
  }

  async signIn(name: string): Promise<void> {
    await this.page.fill('#name', name);
    await this.page.click('#signin-button');
    await this.waitForState('open');
  }

  async waitForState(state: 'open' | 'closed'): Promise<void> {
    await this.page.waitForFunction((s) => document.body.dataset.state === s, state, {
      timeout: 15_000,
    });
  }

  /** Inside the component's shadow root: Playwright's CSS selectors pierce it. */
  $(selector: string) {
    return this.page.locator(`rtnotify-inbox ${selector}`);
  }

  item(id: string) {
    return this.$(`li[data-id="${id}"]`);
  }

  async openPanel(): Promise<void> {
    if ((await this.$('.bell').getAttribute('aria-expanded')) !== 'true') {
      await this.$('.bell').click();
    }
    await this.$('.panel').waitFor({ timeout: 20_000 });
  }

  async waitForUnseen(count: number): Promise<void> {
    await this.$(`.badge[data-count="${count}"]`).waitFor({ state: 'attached', timeout: 20_000 });
  }

  async waitForUnread(count: number): Promise<void> {
    await this.$(`.tab-count[data-count="${count}"]`).waitFor({
      state: 'attached',
      timeout: 20_000,
    });
  }

  async waitForItem(id: string, read?: boolean): Promise<void> {
    const state = read === undefined ? '' : read ? '.read' : '.unread';
    await this.$(`li[data-id="${id}"]${state}`).waitFor({ timeout: 15_000 });
  }

  listedIds(): Promise<string[]> {
    return this.$('li.item').evaluateAll((items) =>
      items.map((item) => (item as HTMLElement).dataset.id ?? ''),
    );
  }

  /** The element that has the focus, through shadow roots: `tag.class1.class2[data-*]`. */
  focused(): Promise<string> {
    return this.page.evaluate(() => {
      let element = document.activeElement;
      while (element?.shadowRoot?.activeElement) element = element.shadowRoot.activeElement;
      if (!element) return '';
      const data = (element as HTMLElement).dataset;
      const extra = data.id ? `[${data.id}]` : data.tab ? `[${data.tab}]` : '';
      return `${element.tagName.toLowerCase()}.${[...element.classList].join('.')}${extra}`;
    });
  }

  /** Axe over the component in its current state: the violations' ids and targets. */
  async axe(): Promise<string[]> {
    const results = await new AxeBuilder({ page: this.page }).include('rtnotify-inbox').analyze();
    return results.violations.map(
      (v) => `${v.id}: ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`,
    );
  }

  /** The user's cached inbox in IndexedDB (what a reload shows first). */
  cached(): Promise<{ items: { id: string }[]; lastId?: string } | undefined> {
    return this.page.evaluate(
      () =>
        new Promise((resolve, reject) => {
          const open = indexedDB.open('rtnotify-inbox');
          open.onerror = () => reject(new Error('no cache database'));
          open.onsuccess = () => {
            const db = open.result;
            if (!db.objectStoreNames.contains('users')) return resolve(undefined);
            const request = db.transaction('users').objectStore('users').getAll();
            request.onsuccess = () => resolve(request.result[0]);
            request.onerror = () => reject(new Error('cannot read the cache'));
          };
        }),
    );
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

describe('<rtnotify-inbox> in Chromium (e2e)', { timeout: 90_000 }, () => {
  let browser: Browser;
  let service: ServiceProcess;
  let producer: Queue;
  let queueEvents: QueueEvents;
  const pages: InboxPage[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    ({ service, producer, queueEvents } = await startDemoService());
  }, 60_000);

  afterEach(async () => {
    for (const page of pages) expect(page.errors, 'uncaught errors in the page').toEqual([]);
    await Promise.all(pages.splice(0).map((page) => page.close()));
    // Every later test would fail on a dead service: say once how it ended, with its last lines.
    const { exitCode, signalCode } = service.process;
    if (exitCode !== null || signalCode !== null) {
      throw new Error(
        `the service ended (${exitCode ?? signalCode}):\n${service.output().slice(-3000)}`,
      );
    }
  });

  afterAll(async () => {
    await browser?.close();
    await producer?.close();
    await queueEvents?.close();
    await service?.stop('SIGKILL');
  });

  async function signedIn(name: string, query = ''): Promise<InboxPage> {
    const page = await InboxPage.open(browser, service.httpUrl, query);
    pages.push(page);
    await page.signIn(name);
    return page;
  }

  /** Enqueues a notification like any producer and waits until it is stored; its id. */
  async function send(
    userId: string,
    payload: Record<string, unknown>,
    type = 'demo.third-party',
    extra: Record<string, unknown> = {},
  ): Promise<string> {
    const job = await producer.add('notify', { userId, type, payload, ...extra });
    const result = (await job.waitUntilFinished(queueEvents, 10_000)) as { ids: string[] };
    return result.ids[0];
  }

  it('keeps two pages of one user in step through seen, read and archive', async () => {
    const name = 'ada';
    const [first, second] = [await signedIn(name), await signedIn(name)];
    const invoice = await send(name, { message: 'Invoice INV-7 is due' }, 'invoice.due', {
      category: 'billing',
    });
    const reply = await send(name, { message: 'Ada replied' }, 'comment.replied', {
      category: 'social',
    });
    const like = await send(name, { message: 'Grace liked your post' }, 'post.liked', {
      category: 'social',
    });
    for (const page of [first, second]) {
      await page.waitForUnseen(3);
      expect(await page.$('.bell').getAttribute('aria-label')).toBe('Notifications, 3 new');
      expect(await page.$('.bell').getAttribute('aria-expanded')).toBe('false');
    }

    // Opening the panel in one page marks everything seen: the other's badge follows.
    await first.openPanel();
    expect(await first.$('.bell').getAttribute('aria-expanded')).toBe('true');
    await second.waitForUnseen(0);
    expect(await first.listedIds()).toEqual([like, reply, invoice]);
    await first.$('.chip[data-category="social"] .chip-count[data-count="2"]').waitFor();

    // Read in one page, shown read in the other (items, not only counts).
    await second.openPanel();
    await first.item(invoice).locator('.mark-read').click();
    await second.waitForItem(invoice, true);
    await second.waitForUnread(2);

    // Archived in one page: it leaves the other's inbox and shows in its Archived tab.
    await second.item(reply).locator('.archive').click();
    await first.item(reply).waitFor({ state: 'detached', timeout: 20_000 });
    await first.waitForUnread(1);
    await first.$('.chip[data-category="social"] .chip-count[data-count="1"]').waitFor();
    await first.$('.tab[data-tab="archived"]').click();
    await first.waitForItem(reply);
    expect(await first.listedIds()).toEqual([reply]);

    // Unarchived from there: back in the other's inbox. Mark all read: both show all read.
    await first.item(reply).locator('.unarchive').click();
    await second.waitForItem(reply, true);
    await first.$('.tab[data-tab="inbox"]').click();
    await first.waitForItem(like, false);
    await second.$('.mark-all').click();
    await first.waitForItem(like, true);
    await first.waitForUnread(0);
    expect(await second.listedIds()).toEqual([like, reply, invoice]);
  }, 60_000);

  it('is usable by keyboard alone, and announces arrivals politely', async () => {
    const name = 'keys';
    const page = await signedIn(name);
    const older = await send(name, { message: 'Older one' });
    const newer = await send(name, { message: 'Newer one' });
    await page.waitForUnseen(2);
    const keys = page.page.keyboard;

    // Tab reaches the bell; Enter opens the panel with the focus on the selected tab.
    for (let i = 0; i < 10 && !(await page.focused()).startsWith('button.bell'); i++) {
      await keys.press('Tab');
    }
    expect(await page.focused()).toBe('button.bell');
    await keys.press('Enter');
    await page.$('.panel').waitFor();
    expect(await page.$('.bell').getAttribute('aria-expanded')).toBe('true');
    expect(await page.focused()).toBe('button.tab[inbox]');

    // Arrows move through the tabs (and select them).
    await keys.press('ArrowRight');
    expect(await page.focused()).toBe('button.tab[unread]');
    await page.$('.tab[data-tab="unread"][aria-selected="true"]').waitFor();
    await keys.press('ArrowLeft');
    expect(await page.focused()).toBe('button.tab[inbox]');
    await page.waitForItem(older);

    // Tab on to the list; arrows move through the items; Enter reads one.
    for (let i = 0; i < 10 && !(await page.focused()).startsWith('li.item'); i++) {
      await keys.press('Tab');
    }
    expect(await page.focused()).toBe(`li.item.unread[${newer}]`);
    await keys.press('ArrowDown');
    expect(await page.focused()).toBe(`li.item.unread[${older}]`);
    await keys.press('Enter');
    await page.waitForItem(older, true);
    await keys.press('ArrowUp');
    expect(await page.focused()).toBe(`li.item.unread[${newer}]`);
    // Its actions are the next Tab stops.
    await keys.press('Tab');
    expect(await page.focused()).toBe('button.link.mark-read');
    await keys.press('Enter');
    await page.waitForItem(newer, true);

    // Escape closes the panel and gives the focus back to the bell.
    await keys.press('Escape');
    await page.$('.panel').waitFor({ state: 'detached' });
    expect(await page.focused()).toBe('button.bell');
    expect(await page.$('.bell').getAttribute('aria-expanded')).toBe('false');

    // A new notification is said in the polite live region.
    await send(name, { message: 'Fresh news' });
    await page
      .$('[role="status"][aria-live="polite"]')
      .filter({ hasText: 'New notification: Fresh news' })
      .waitFor({ state: 'attached' });
  });

  it('has no axe violations in any state, light and dark', async () => {
    const name = 'axel';
    const page = await signedIn(name);
    const states: Record<string, string[]> = {};

    states['closed, nothing new'] = await page.axe();
    // Loading: the listing is held until axe has looked.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.page.route('**/v1/me/notifications?*', async (route) => {
      await held;
      await route.continue();
    });
    await page.openPanel();
    await page.$('.tab[data-tab="archived"]').click();
    await page.$('.panel [data-state="loading"]').waitFor();
    states.loading = await page.axe();
    release();
    await page.$('.panel [data-state="empty"]').waitFor();
    states.empty = await page.axe();
    await page.page.unroute('**/v1/me/notifications?*');
    await page.$('.tab[data-tab="inbox"]').click();
    await page.$('.panel [data-state="empty"]').waitFor();
    await page.$('.bell').click();
    await page.$('.panel').waitFor({ state: 'detached' });

    await send(name, { title: 'Invoice ready', body: 'INV-1 is ready' }, 'invoice.ready', {
      category: 'billing',
    });
    const read = await send(name, { message: 'Already read' });
    for (let i = 0; i < 2; i++) {
      await send(name, { message: 'Grace and others liked your post' }, 'post.liked', {
        collapseKey: 'likes',
      });
    }
    // Three unseen: the two likes collapsed into one.
    await page.waitForUnseen(3);
    states['closed, badge'] = await page.axe();
    await page.openPanel();
    await page.$('.collapsed').waitFor();
    await page.item(read).locator('.mark-read').click();
    await page.waitForItem(read, true);
    states['open, items'] = await page.axe();
    await page.page.evaluate(() => {
      document.querySelector('rtnotify-inbox')!.setAttribute('theme', 'dark');
    });
    states['open, items, dark'] = await page.axe();

    // The HTTP inbox fails (the socket is fine): the error state, with its retry button.
    await page.page.route('**/v1/me/notifications?*', (route) =>
      route.fulfill({ status: 500, contentType: 'application/json', body: '{}' }),
    );
    await page.$('.tab[data-tab="archived"]').click();
    await page.$('.panel .state[data-state="error"] .retry').waitFor();
    states['error, dark'] = await page.axe();
    await page.page.unroute('**/v1/me/notifications?*');
    await page.$('.retry').click();
    await page.$('.panel [data-state="empty"]').waitFor();
    await page.$('.tab[data-tab="inbox"]').click();
    await page.waitForItem(read, true);

    // Offline with the cache shown, then an error without a cache.
    page.offline = true;
    await page.page.reload();
    await page.waitForState('closed');
    await page.openPanel();
    await page.$('.notice.offline').waitFor();
    states['offline, cached'] = await page.axe();
    await page.page.evaluate(async () => {
      await document.querySelector('rtnotify-inbox')!.signOut();
    });
    await page.page.reload();
    await page.openPanel();
    await page.$('.panel .state[data-state="offline"]').waitFor();
    states['offline, nothing cached'] = await page.axe();
    page.offline = false;

    for (const [state, violations] of Object.entries(states)) expect(violations, state).toEqual([]);
    expect(Object.keys(states)).toHaveLength(9);
  }, 120_000);

  it('shows the cached inbox on a reload with the network cut, then the missed ones exactly once', async () => {
    const name = 'olga';
    const page = await signedIn(name);
    const before = [
      await send(name, { message: 'First' }),
      await send(name, { message: 'Second' }),
    ];
    await page.waitForUnseen(2);
    await page.page.waitForFunction(async (last) => {
      const el = document.querySelector('rtnotify-inbox') as unknown as {
        notificationsClient?: { lastId?: string };
      };
      return el.notificationsClient?.lastId === last;
    }, before[1]);
    await expect
      .poll(async () => (await page.cached())?.lastId, { timeout: 20_000 })
      .toBe(before[1]);

    page.offline = true;
    page.listings = 0;
    await page.page.reload();
    // The badge from the cache, before any answer from the network.
    await page.waitForUnseen(2);
    await page.openPanel();
    await page.waitForItem(before[0], false);
    await page.$('.notice.offline').waitFor();
    expect(await page.listedIds()).toEqual([before[1], before[0]]);

    const missed = [
      await send(name, { message: 'Third' }),
      await send(name, { message: 'Fourth' }),
    ];
    page.offline = false;
    await page.waitForState('open');
    for (const id of missed) await page.waitForItem(id);
    await page.$('.notice.offline').waitFor({ state: 'detached' });
    // One more, so that anything replayed twice would have arrived before it.
    const after = await send(name, { message: 'Fifth' });
    await page.waitForItem(after);
    expect(await page.listedIds()).toEqual([after, ...missed.reverse(), before[1], before[0]]);
    // Only the gap travelled: the listing was not fetched again.
    expect(page.listings).toBe(0);

    // Signing out clears the user's cache.
    await page.page.evaluate(async () => {
      await document.querySelector('rtnotify-inbox')!.signOut();
    });
    expect(await page.cached()).toBeUndefined();
  });

  it('takes templates by type, a renderer, strings and right-to-left from the host page', async () => {
    const name = 'host';
    const page = await signedIn(name);
    await page.page.evaluate(() => {
      document.documentElement.dir = 'rtl';
      const el = document.querySelector('rtnotify-inbox')!;
      el.templates = {
        'order.shipped': (n) => ({
          title: `Bestellung ${String(n.payload.order)} ist unterwegs`,
          body: 'Sendungsverfolgung öffnen',
        }),
      };
      el.strings = {
        bellLabel: (count) => `Benachrichtigungen, ${count} neu`,
        tabs: { inbox: 'Eingang', unread: 'Ungelesen', archived: 'Archiv' },
        markRead: 'Gelesen',
        archive: 'Archivieren',
        announce: (title) => `Neu: ${title}`,
      };
    });
    const order = await send(name, { order: 1042 }, 'order.shipped');
    await page.waitForUnseen(1);
    expect(await page.$('.bell').getAttribute('aria-label')).toBe('Benachrichtigungen, 1 neu');
    await page.openPanel();
    await page.waitForItem(order, false);
    expect(await page.item(order).locator('.title').textContent()).toBe(
      'Bestellung 1042 ist unterwegs',
    );
    expect(await page.item(order).locator('.body').textContent()).toBe('Sendungsverfolgung öffnen');
    expect((await page.item(order).locator('.mark-read').textContent())?.trim()).toBe('Gelesen');
    expect(await page.$('.tab').allTextContents()).toEqual([
      expect.stringContaining('Eingang'),
      expect.stringContaining('Ungelesen'),
      expect.stringContaining('Archiv'),
    ]);
    // Right to left: the panel opens toward the start of the line, mirrored.
    expect(await page.$('.panel').evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');

    // Activating an item reads it and follows only an http(s) url: a javascript: one is ignored.
    await page.page.evaluate(() => {
      const el = document.querySelector('rtnotify-inbox')!;
      el.templates = {
        ...el.templates,
        'evil.link': () => ({ title: 'Click me', url: 'javascript:window.pwned=1' }),
      };
      el.addEventListener(
        'rtnotify-activate',
        (e) => ((window as any).activated = (e as CustomEvent).detail.notification.id),
      );
    });
    const evil = await send(name, {}, 'evil.link');
    await page.waitForItem(evil, false);
    await page.item(evil).locator('.title').click();
    await page.waitForItem(evil, true);
    expect(await page.page.evaluate(() => (window as any).activated)).toBe(evil);
    expect(await page.page.evaluate(() => (window as any).pwned)).toBeUndefined();

    // A renderer replaces the whole content; the host's markup shows.
    await page.page.evaluate(() => {
      const el = document.querySelector('rtnotify-inbox')!;
      el.renderer = (n, content) => {
        const strong = document.createElement('strong');
        strong.className = 'custom';
        strong.textContent = `${n.type}: ${content.title}`;
        return strong;
      };
    });
    await page.item(order).locator('.custom').waitFor();
    expect(await page.item(order).locator('.custom').textContent()).toBe(
      'order.shipped: Bestellung 1042 ist unterwegs',
    );

    // Inline: the panel in the page's flow, no bell, no Escape to close it.
    await page.page.evaluate(() => {
      document.querySelector('rtnotify-inbox')!.inline = true;
    });
    await page.$('.panel[role="region"]').waitFor();
    expect(await page.$('.bell').count()).toBe(0);
    await page.item(order).focus();
    await page.page.keyboard.press('Escape');
    expect(await page.$('.panel').isVisible()).toBe(true);
  });

  it('takes the README screenshots, open, in light and dark', async () => {
    for (const theme of ['light', 'dark'] as const) {
      const name = `shot-${theme}`;
      const page = await signedIn(name, `&theme=${theme}`);
      await send(
        name,
        { title: 'Invoice INV-2291 is ready', body: 'Due on 12 December' },
        'invoice.ready',
        {
          category: 'billing',
        },
      );
      await send(
        name,
        { title: 'Linus mentioned you', body: 'in "Release 2.4"' },
        'mention.created',
        {
          category: 'social',
        },
      );
      for (let i = 0; i < 3; i++) {
        await send(name, { title: 'Grace and others liked your post' }, 'post.liked', {
          category: 'social',
          collapseKey: 'likes',
        });
      }
      const read = await send(
        name,
        { title: 'Your export finished', body: '12,480 rows' },
        'export.finished',
        {
          category: 'system',
        },
      );
      await page.openPanel();
      await page.waitForItem(read);
      await page.item(read).locator('.mark-read').click();
      await page.waitForItem(read, true);
      await page.$('.collapsed').waitFor();
      const path = `${SHOTS}/inbox-${theme}.png`;
      await mkdir(SHOTS, { recursive: true });
      await page.page.screenshot({ path });
      expect((await stat(path)).size).toBeLessThan(250_000);
    }
  });
  it('works on a page of its own that loads the one-file bundle from the packed tarball', async () => {
    // The tarball, as npm would install it: what it holds, and the bundle inside it.
    const dir = mkdtempSync(join(tmpdir(), 'rtnotify-inbox-pack-'));
    let server: Server | undefined;
    try {
      const [packed] = JSON.parse(
        execFileSync('npm', ['pack', '--json', '--pack-destination', dir, '-w', 'libs/inbox'], {
          encoding: 'utf8',
        }),
      ) as { filename: string; files: { path: string }[] }[];
      const files = packed.files.map((file) => file.path);
      expect(files).toEqual(
        expect.arrayContaining([
          'package.json',
          'README.md',
          'LICENSE',
          'dist/index.js',
          'dist/index.d.ts',
          'dist/react.js',
          'dist/rtnotify-inbox.bundle.js',
        ]),
      );
      expect(
        files.filter((file) => !/^(dist\/|package\.json$|README\.md$|LICENSE$)/.test(file)),
      ).toEqual([]);
      execFileSync('tar', ['-xzf', join(dir, packed.filename), '-C', dir]);
      // Its modules import only what its manifest declares (the bundle imports nothing at all).
      const manifest = JSON.parse(readFileSync(join(dir, 'package/package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
        peerDependencies: Record<string, string>;
      };
      const declared = new Set([
        ...Object.keys(manifest.dependencies),
        ...Object.keys(manifest.peerDependencies),
      ]);
      for (const file of files.filter((f) => f.endsWith('.js'))) {
        const source = readFileSync(join(dir, 'package', file), 'utf8');
        const bare = [
          ...source.matchAll(
            /(?:^|[;}\n])\s*(?:import|export)\s*(?:[\w*{}\s,$]*from\s*)?['"]([^'".][^'"]*)['"]/g,
          ),
        ].map(([, specifier]) =>
          specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/'),
        );
        if (file.endsWith('.bundle.js')) expect(bare, file).toEqual([]);
        for (const pkg of bare) expect(declared.has(pkg), `${file} imports ${pkg}`).toBe(true);
      }
      const bundle = readFileSync(join(dir, 'package/dist/rtnotify-inbox.bundle.js'));
      // Component + client + protocol + Lit, minified and gzipped: within the budget.
      expect(gzipSync(bundle, { level: 9 }).length).toBeLessThan(20 * 1024);

      // A page of its own on another server, which forwards the rest (HTTP and the socket).
      const name = 'own-page';
      const token = await signToken(name);
      const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Own page</title>
<script type="module">
  import '/vendor/rtnotify-inbox.js';
  const inbox = document.querySelector('rtnotify-inbox');
  inbox.backoff = { baseMs: 200, capMs: 2000 };
  inbox.token = async () => ${JSON.stringify(token)};
</script></head><body><main><h1>My app</h1><rtnotify-inbox theme="dark"></rtnotify-inbox></main></body></html>`;
      const target = new URL(service.httpUrl);
      server = createServer((req, res) => {
        if (req.url === '/') {
          res.writeHead(200, { 'content-type': 'text/html' }).end(html);
        } else if (req.url === '/vendor/rtnotify-inbox.js') {
          res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
        } else {
          const forward = request(
            {
              host: target.hostname,
              port: target.port,
              path: req.url,
              method: req.method,
              headers: req.headers,
            },
            (answer) => {
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              answer.pipe(res);
            },
          );
          forward.on('error', () => res.destroy());
          req.pipe(forward);
        }
      });
      server.on('upgrade', (req, socket, head) => {
        const upstream = tcpConnect(Number(target.port), target.hostname, () => {
          const lines = [`${req.method} ${req.url} HTTP/1.1`];
          for (let i = 0; i < req.rawHeaders.length; i += 2) {
            lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
          }
          upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
          upstream.write(head);
          upstream.pipe(socket);
          socket.pipe(upstream);
        });
        upstream.on('error', () => socket.destroy());
        socket.on('error', () => upstream.destroy());
      });
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      const address = server.address() as { port: number };

      const context = await browser.newContext({ reducedMotion: 'reduce' });
      try {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (error) => errors.push(error.message));
        await page.goto(`http://127.0.0.1:${address.port}/`);
        await page.locator('rtnotify-inbox .bell').waitFor();
        const id = await send(name, { title: 'From the tarball' });
        await page.locator('rtnotify-inbox .badge[data-count="1"]').waitFor({ state: 'attached' });
        await page.locator('rtnotify-inbox .bell').click();
        const item = page.locator(`rtnotify-inbox li[data-id="${id}"].unread`);
        await item.waitFor();
        expect(await item.locator('.title').textContent()).toBe('From the tarball');
        await item.locator('.mark-read').click();
        await page.locator(`rtnotify-inbox li[data-id="${id}"].read`).waitFor();
        const results = await new AxeBuilder({ page }).include('rtnotify-inbox').analyze();
        expect(results.violations.map((v) => v.id)).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    } finally {
      server?.closeAllConnections();
      server?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
  it("type-checks the README's React example against the built wrapper", () => {
    // Under the repository, so that @rtnotify/inbox, react and @types/react resolve as installed.
    mkdirSync('test-results', { recursive: true });
    const dir = mkdtempSync(join(process.cwd(), 'test-results', 'react-example-'));
    try {
      const readme = readFileSync('libs/inbox/README.md', 'utf8');
      const example = /```tsx\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
      expect(example).toContain('RtnotifyInboxReact');
      // A wrong prop must fail, so that the check is known to check.
      const wrong = `${example}\nexport const Wrong = () => <RtnotifyInboxReact gatewayUrl={42} />;\n`;
      const tsconfig = (file: string) => ({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          jsx: 'react-jsx',
          target: 'es2022',
          lib: ['es2023', 'dom'],
          types: [],
          noEmit: true,
        },
        files: [file],
      });
      writeFileSync(join(dir, 'package.json'), '{"type": "module"}');
      writeFileSync(join(dir, 'example.tsx'), example);
      writeFileSync(join(dir, 'wrong.tsx'), wrong);
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig('example.tsx')));
      writeFileSync(join(dir, 'tsconfig.wrong.json'), JSON.stringify(tsconfig('wrong.tsx')));
      const tsc = (project: string) =>
        execFileSync(
          process.execPath,
          ['node_modules/typescript/bin/tsc', '-p', join(dir, project)],
          {
            encoding: 'utf8',
          },
        );
      expect(tsc('tsconfig.json')).toBe('');
      let refused = '';
      try {
        tsc('tsconfig.wrong.json');
      } catch (error) {
        refused = String((error as { stdout?: string }).stdout);
      }
      expect(refused).toMatch(/Type 'number' is not assignable to type 'string'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
  it('scrolls endlessly over the cursor pages, each notification once, in order', async () => {
    const name = 'pager';
    const page = await signedIn(name);
    const ids: string[] = [];
    for (let i = 1; i <= 7; i++) ids.push(await send(name, { message: `Number ${i}` }));
    await page.waitForUnseen(7);
    // Pages of three: the view is listed again with the new size.
    await page.page.evaluate(() => {
      document.querySelector('rtnotify-inbox')!.pageSize = 3;
    });
    await page.openPanel();
    await page.$('.tab[data-tab="unread"]').click();
    await page.$('.tab[data-tab="inbox"]').click();
    // Scrolling to the end of the list loads the next page (and a panel not yet full loads on).
    await expect
      .poll(
        async () => {
          await page.$('.scroller').evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
          return (await page.listedIds()).length;
        },
        { timeout: 15_000 },
      )
      .toBe(7);
    await expect.poll(() => page.listedIds()).toEqual([...ids].reverse());
    expect(await page.$('.more').count()).toBe(0);
    const pages = page.listingUrls.map((url) => new URL(url).searchParams);
    expect(pages.filter((q) => q.get('status') === 'inbox' && q.get('limit') === '3')).toHaveLength(
      3,
    );
    expect(pages.filter((q) => q.get('status') === 'inbox' && q.has('before'))).toHaveLength(2);
  });
});
