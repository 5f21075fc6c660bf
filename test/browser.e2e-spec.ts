import { dirname } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { mkdir, stat } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { inject } from 'vitest';
import { DemoPage, launchChromium, startDemoService } from './kit/browser.js';
import { http } from './kit/http.mjs';
import { startService, type ServiceProcess } from './kit/service.mjs';
import { isolatedEnv } from './kit/test-app.js';
import { signToken, TEST_JWT_SECRET } from './kit/tokens.mjs';

// The README's screenshot; written to test-results/ unless UPDATE_SCREENSHOT=1 asks to refresh it.
const SCREENSHOT =
  process.env.UPDATE_SCREENSHOT === '1' ? 'docs/demo.png' : 'test-results/demo.png';

describe('the demo page in Chromium (e2e)', { timeout: 90_000 }, () => {
  let browser: Browser;
  let service: ServiceProcess;
  let env: Record<string, string>;
  let producer: Queue;
  let queueEvents: QueueEvents;
  const pages: DemoPage[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    ({ env, service, producer, queueEvents } = await startDemoService());
  }, 60_000);

  afterEach(async () => {
    for (const page of pages) expect(page.errors, 'uncaught errors in the page').toEqual([]);
    await Promise.all(pages.splice(0).map((page) => page.close()));
  });

  afterAll(async () => {
    await browser?.close();
    await producer?.close();
    await queueEvents?.close();
    await service?.stop('SIGKILL');
  });

  /** Opens the demo page in a fresh context (a tab of its own) and signs in as `name`. */
  async function signedIn(name: string): Promise<DemoPage> {
    const page = await DemoPage.open(browser, `${service.httpUrl}/?backoffMs=200`);
    pages.push(page);
    await page.signIn(name);
    return page;
  }

  /** A third party's notification, through the queue like any producer; resolves with the job. */
  function enqueue(userId: string, message: string, type = 'demo.third-party', category?: string) {
    return producer.add('notify', {
      userId,
      type,
      payload: { message },
      ...(category === undefined ? {} : { category }),
    });
  }

  /** Enqueues and waits until the service stored it; resolves with its notification id. */
  async function send(
    userId: string,
    message: string,
    type?: string,
    category?: string,
  ): Promise<string> {
    const job = await enqueue(userId, message, type, category);
    const result = (await job.waitUntilFinished(queueEvents, 10_000)) as { ids: string[] };
    return result.ids[0];
  }

  it('shows a third party notification in two pages of one user, with the same badge', async () => {
    const name = 'ada';
    const [first, second] = [await signedIn(name), await signedIn(name)];

    const ids = [
      await send(name, 'Your order #1042 has shipped', 'order.shipped'),
      await send(name, 'Anna commented on your post', 'comment.created'),
    ];

    // Unseen in both until one opens its panel.
    for (const page of [first, second]) await page.waitForUnseen(2);
    for (const page of [first, second]) {
      await page.openPanel();
      for (const id of ids) await page.waitForItem(id, false);
      await page.waitForBadge(2);
      expect(await page.page.locator('rtnotify-inbox li.item').allTextContents()).toEqual([
        expect.stringContaining('Anna commented on your post'),
        expect.stringContaining('Your order #1042 has shipped'),
      ]);
    }
    expect(await first.badge()).toBe('2');
    expect(await second.badge()).toBe('2');
    expect(await first.page.locator('rtnotify-inbox .more').count()).toBe(0);
  });

  it('updates the other page when one marks read, one or all', async () => {
    const name = 'grace';
    const [first, second] = [await signedIn(name), await signedIn(name)];
    const ids = [
      await send(name, 'Invoice INV-2291 is ready to download', 'invoice.ready'),
      await send(name, 'Linus mentioned you in "Release 2.4"', 'mention.created'),
      await send(name, 'Your export finished: 12,480 rows', 'export.finished'),
    ];
    await first.waitForBadge(3);
    await second.waitForBadge(3);
    await first.openPanel();
    await second.openPanel();

    await first.item(ids[0]).locator('.mark-read').click();
    await second.waitForBadge(2);
    await second.waitForItem(ids[0], true);
    await second.waitForItem(ids[1], false);

    // The test button of the page goes through the service's own producer API.
    // (A click outside the inbox closes its panel, as a popover does.)
    await second.page.click('#send-test');
    await second.page.locator('rtnotify-inbox .panel').waitFor({ state: 'detached' });
    await second.openPanel();
    const testId = await first.waitForText('Test notification #1');
    await second.waitForItem(testId, false);
    await first.waitForBadge(3);
    await second.waitForBadge(3);

    await second.page.click('rtnotify-inbox .mark-all');
    await first.waitForBadge(0);
    for (const id of [...ids, testId]) await first.waitForItem(id, true);
  });

  it('keeps two pages in step through the bell, archive and unarchive, with tabs and categories', async () => {
    const name = 'margaret';
    const [first, second] = [await signedIn(name), await signedIn(name)];
    const [invoice, reply, like] = [
      await send(name, 'Invoice INV-7 is due on Friday', 'invoice.due', 'billing'),
      await send(name, 'Ada replied to your comment', 'comment.replied', 'social'),
      await send(name, 'Grace liked your post', 'post.liked', 'social'),
    ];
    for (const page of [first, second]) {
      await page.waitForBadge(3);
      await page.waitForUnseen(3);
    }
    // The bell opened in one page: nothing is unseen in either, and nothing was read by it.
    await first.openPanel();
    await second.waitForUnseen(0);
    expect(await second.badge()).toBe('3');
    await second.openPanel();
    for (const page of [first, second]) {
      await page.waitForItem(like, false);
      await page.waitForChip('social', 2);
      await page.waitForChip('billing', 1);
    }
    await first.item(invoice).locator('.mark-read').click();
    await second.waitForItem(invoice, true);
    await second.waitForBadge(2);

    await mkdir(dirname(SCREENSHOT), { recursive: true });
    await second.page.screenshot({ path: SCREENSHOT });
    expect((await stat(SCREENSHOT)).size).toBeLessThan(200_000);

    // Archived in one page: the other's inbox drops it, its counts follow.
    await second.item(reply).locator('.archive').click();
    await first.item(reply).waitFor({ state: 'detached', timeout: 20_000 });
    await first.waitForBadge(1);
    await first.waitForChip('social', 1);
    expect(await first.listedIds()).toEqual([like, invoice]);

    // Tabs and the category filter.
    await first.page.click('rtnotify-inbox [data-tab="archived"]');
    await first.waitForItem(reply);
    expect(await first.listedIds()).toEqual([reply]);
    await second.page.click('rtnotify-inbox .chip[data-category="social"]');
    await expect.poll(() => second.listedIds()).toEqual([like]);
    await second.page.click('rtnotify-inbox [data-tab="unread"]');
    await expect.poll(() => second.listedIds()).toEqual([like]);

    // Unarchived from the Archived tab of one page: back in the other's filtered inbox.
    await first.item(reply).locator('.unarchive').click();
    await first.item(reply).waitFor({ state: 'detached', timeout: 20_000 });
    await second.page.click('rtnotify-inbox [data-tab="inbox"]');
    await second.waitForItem(reply, true);
    expect(await second.listedIds()).toEqual([like, reply]);
  });

  it('reconnects by itself after the service restarts and shows what was sent meanwhile, once', async () => {
    const name = 'linus';
    const page = await signedIn(name);
    await page.openPanel();
    const before = await send(name, 'Sent before the restart');
    await page.waitForItem(before, false);

    expect(await service.stop('SIGTERM')).toBe(0);
    await page.waitForState('not open');
    const job = await enqueue(name, 'Sent while the service was down');
    service = await startService(env);

    const missedId = await page.waitForText('Sent while the service was down');
    expect(((await job.waitUntilFinished(queueEvents, 10_000)) as { ids: string[] }).ids).toEqual([
      missedId,
    ]);
    await page.waitForState('open');
    // Anything delivered twice would arrive before a later notification: send one and wait for it.
    const after = await send(name, 'Sent after the restart');
    await page.waitForItem(after, false);

    expect(await page.page.locator('#log li[data-event="state"]').allTextContents()).toContainEqual(
      expect.stringMatching(/closed \(1001 server shutting down/),
    );
    for (const id of [before, missedId, after]) {
      expect(await page.itemCount(id), id).toBe(1);
      expect(await page.deliveredCount(id), id).toBe(1);
    }
    await page.waitForBadge(3);
    expect(await page.page.locator('rtnotify-inbox li.item').count()).toBe(3);
  }, 60_000);

  describe('in production with DEMO=1', () => {
    let production: ServiceProcess;

    beforeAll(async () => {
      production = await startService({
        ...isolatedEnv(),
        REDIS_URL: inject('redisUrl'),
        NODE_ENV: 'production',
        DEMO: '1',
        JWT_SECRET: TEST_JWT_SECRET,
      });
    }, 30_000);
    afterAll(async () => {
      await production?.stop('SIGKILL');
    });

    it('offers no development sign-in, and works with a pasted token', async () => {
      expect(
        (await http('POST', `${production.httpUrl}/dev/token`, { body: { name: 'x' } })).status,
      ).toBe(404);
      const page = await DemoPage.open(browser, `${production.httpUrl}/`);
      pages.push(page);
      expect(await page.page.locator('#dev-signin').isHidden()).toBe(true);
      expect(await page.page.locator('#token').isVisible()).toBe(true);

      await page.pasteToken(await signToken('prod-reader'));

      expect(await page.page.locator('#user').textContent()).toBe('prod-reader');
      expect(await page.page.locator('#send-test').isHidden()).toBe(true);
    });
  });
});
