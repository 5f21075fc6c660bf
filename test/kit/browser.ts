import { Queue, QueueEvents } from 'bullmq';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { inject } from 'vitest';
import { redisOptionsFromUrl } from '../../src/redis/redis-url.js';
import { freePort } from './processes.mjs';
import { startService, type ServiceProcess } from './service.mjs';
import { isolatedEnv } from './test-app.js';
import { TEST_JWT_SECRET } from './tokens.mjs';

/** Debian's Chromium (`apt-get install -y chromium`); `.ci/run` installs it when missing. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The built service serving the demo page and `/dev` sign-in, with a producer on its queue. */
export interface DemoService {
  /** Its environment: start it again with `startService(env)` on the same port. */
  env: Record<string, string>;
  service: ServiceProcess;
  producer: Queue;
  queueEvents: QueueEvents;
}

/** Starts the demo service on a free port and the suite's Redis (its own queue and key prefix). */
export async function startDemoService(): Promise<DemoService> {
  const env: Record<string, string> = {
    PORT: String(await freePort()),
    REDIS_URL: inject('redisUrl'),
    NODE_ENV: 'development',
    JWT_SECRET: TEST_JWT_SECRET,
    DEV_TOKENS: '1',
    ...isolatedEnv(),
  };
  const service = await startService(env);
  const connection = redisOptionsFromUrl(inject('redisUrl'));
  const producer = new Queue(env.NOTIFY_QUEUE, { connection });
  const queueEvents = new QueueEvents(env.NOTIFY_QUEUE, { connection });
  await queueEvents.waitUntilReady();
  return { env, service, producer, queueEvents };
}

/** Launches headless Chromium, or fails with what to install: browser tests never skip silently. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM_PATH}.\n` +
        `Install it with: apt-get install -y chromium   (or set CHROMIUM_PATH)`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** The demo page in one browser context (its own session storage: a separate tab or device). */
export class DemoPage {
  /** Uncaught errors of the page's scripts; a test expects none. */
  readonly errors: string[] = [];

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {
    page.on('pageerror', (error) => this.errors.push(error.message));
  }

  static async open(browser: Browser, url: string): Promise<DemoPage> {
    const context = await browser.newContext({
      viewport: { width: 760, height: 600 },
      reducedMotion: 'reduce',
    });
    const page = await context.newPage();
    const demo = new DemoPage(context, page);
    await page.goto(url);
    await page.waitForSelector('body[data-page="ready"]');
    return demo;
  }

  /** Development sign-in by name; resolves once the socket is live. */
  async signIn(name: string): Promise<void> {
    await this.page.fill('#name', name);
    await this.page.click('#signin-button');
    await this.waitForState('open');
  }

  /** Production sign-in: pastes a token. */
  async pasteToken(token: string): Promise<void> {
    await this.page.fill('#token', token);
    await this.page.click('#signin-button');
    await this.waitForState('open');
  }

  async waitForState(state: 'open' | 'connecting' | 'closed' | 'not open'): Promise<void> {
    await this.page.waitForFunction(
      (wanted) => {
        const current = document.body.dataset.state;
        return wanted === 'not open' ? current !== 'open' : current === wanted;
      },
      state,
      { timeout: 15_000 },
    );
  }

  async waitForBadge(count: number): Promise<void> {
    await this.page
      .locator(`#badge[data-count="${count}"]`)
      .waitFor({ state: 'visible', timeout: 20_000 });
  }

  /**
   * Opens the panel of the page's `<rtnotify-inbox>` (which marks everything seen). Playwright's CSS
   * selectors pierce its shadow root: `rtnotify-inbox li.item` and so on.
   */
  async openPanel(): Promise<void> {
    const bell = this.page.locator('rtnotify-inbox .bell');
    if ((await bell.getAttribute('aria-expanded')) !== 'true') await bell.click();
    await this.page.locator('rtnotify-inbox .panel').waitFor({ timeout: 20_000 });
  }

  /** Waits for the bell's unseen count. */
  async waitForUnseen(count: number): Promise<void> {
    await this.page
      .locator(`rtnotify-inbox .badge[data-count="${count}"]`)
      .waitFor({ state: 'attached', timeout: 20_000 });
  }

  /** Waits for the unread count on a category's chip (the panel open). */
  async waitForChip(category: string, count: number): Promise<void> {
    await this.page
      .locator(
        `rtnotify-inbox .chip[data-category="${category}"] .chip-count[data-count="${count}"]`,
      )
      .waitFor({ state: 'visible', timeout: 20_000 });
  }

  /** The ids the list shows, top to bottom (the panel open). */
  async listedIds(): Promise<string[]> {
    const ids = await this.page
      .locator('rtnotify-inbox li.item')
      .evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset.id ?? ''));
    return ids;
  }

  async badge(): Promise<string> {
    return (await this.page.locator('#badge').textContent()) ?? '';
  }

  item(id: string) {
    return this.page.locator(`rtnotify-inbox li[data-id="${id}"]`);
  }

  /** Waits for the list item of `id` (unread, when `read` is false; the panel open). */
  async waitForItem(id: string, read?: boolean): Promise<void> {
    const state = read === undefined ? '' : read ? ':not(.unread)' : '.unread';
    await this.page
      .locator(`rtnotify-inbox li[data-id="${id}"]${state}`)
      .waitFor({ state: 'visible', timeout: 20_000 });
  }

  /** Waits for a list item with `text`; returns its notification id. */
  async waitForText(text: string): Promise<string> {
    const item = this.page.locator('rtnotify-inbox li.item', { hasText: text });
    await item.waitFor({ state: 'visible', timeout: 20_000 });
    return (await item.getAttribute('data-id')) ?? '';
  }

  /** List items showing `id` (1 when shown exactly once). */
  itemCount(id: string): Promise<number> {
    return this.item(id).count();
  }

  /** `notification` events the SDK handed the page for `id`, from the page's connection log. */
  deliveredCount(id: string): Promise<number> {
    return this.page.locator(`#log li[data-event="notification"][data-id="${id}"]`).count();
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
