import { AxeBuilder } from '@axe-core/playwright';
import type { NotificationPreferences } from '@rtnotify/protocol';
import type { Queue, QueueEvents } from 'bullmq';
import { mkdir } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { DemoPage, launchChromium, startDemoService } from './kit/browser.js';
import { http } from './kit/http.mjs';
import type { ServiceProcess } from './kit/service.mjs';
import { signToken } from './kit/tokens.mjs';

/** The preferences view of `<rtnotify-inbox>` on the demo page, against the built service. */
describe('<rtnotify-inbox> preferences in Chromium (e2e)', { timeout: 90_000 }, () => {
  let browser: Browser;
  let service: ServiceProcess;
  let producer: Queue;
  let queueEvents: QueueEvents;
  const pages: DemoPage[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    ({ service, producer, queueEvents } = await startDemoService());
  }, 60_000);

  afterEach(async () => {
    for (const page of pages) expect(page.errors, 'uncaught errors in the page').toEqual([]);
    await Promise.all(pages.splice(0).map((page) => page.close()));
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

  async function signedIn(name: string, query = ''): Promise<DemoPage> {
    const page = await DemoPage.open(browser, `${service.httpUrl}/?backoffMs=200${query}`);
    pages.push(page);
    await page.signIn(name);
    return page;
  }

  /** What the server holds: `GET /v1/me/preferences` with the user's token, from outside the page. */
  async function preferencesOf(userId: string): Promise<NotificationPreferences> {
    const answer = await http('GET', `${service.httpUrl}/v1/me/preferences`, {
      token: await signToken(userId),
    });
    expect(answer.status).toBe(200);
    return answer.body as NotificationPreferences;
  }

  /** Enqueues a notification in `category`; the job's result (`stored`, `suppressed`). */
  async function send(
    userId: string,
    category: string,
  ): Promise<{ ids: string[]; stored: number; suppressed: number }> {
    const job = await producer.add('notify', {
      userId,
      type: 'demo.third-party',
      payload: { message: `About ${category}` },
      category,
    });
    return job.waitUntilFinished(queueEvents, 10_000);
  }

  const $ = (page: DemoPage, selector: string) => page.page.locator(`rtnotify-inbox ${selector}`);
  const toggle = (page: DemoPage, category: string, setting: 'inApp' | 'fallback') =>
    $(page, `fieldset[data-category="${category}"] input[data-setting="${setting}"]`);

  /** The focused element through shadow roots: `tag[data-setting]@category` or `tag.class`. */
  const focused = (page: DemoPage) =>
    page.page.evaluate(() => {
      let element = document.activeElement;
      while (element?.shadowRoot?.activeElement) element = element.shadowRoot.activeElement;
      if (!element) return '';
      const setting = (element as HTMLElement).dataset.setting;
      if (setting) {
        return `${element.tagName.toLowerCase()}[${setting}]@${element.closest('fieldset')?.dataset.category}`;
      }
      return `${element.tagName.toLowerCase()}.${[...element.classList].join('.')}`;
    });

  async function axe(page: DemoPage): Promise<string[]> {
    const results = await new AxeBuilder({ page: page.page }).include('rtnotify-inbox').analyze();
    return results.violations.map(
      (v) => `${v.id}: ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`,
    );
  }

  it('turns a category off by keyboard, saves it over HTTP, keeps it on a reload, and passes axe', async () => {
    const name = 'prefs-ui';
    await send(name, 'invoices');
    const page = await signedIn(name);
    const violations: Record<string, string[]> = {};
    await page.openPanel();

    // The Preferences button opens the view, with the focus on its heading.
    await $(page, '.show-preferences').click();
    await $(page, '.panel[data-page="preferences"]').waitFor();
    expect(await $(page, '#heading').textContent()).toBe('Notification preferences');
    expect(await focused(page)).toBe('h2.');
    // The demo's categories and the one its notification has, sorted; every switch on.
    await toggle(page, 'invoices', 'inApp').waitFor();
    expect(
      await $(page, 'fieldset.pref').evaluateAll((sets) =>
        sets.map((set) => (set as HTMLElement).dataset.category),
      ),
    ).toEqual(['billing', 'invoices', 'social', 'system']);
    expect(await $(page, 'input[role="switch"]:not(:checked)').count()).toBe(0);
    expect(await toggle(page, 'billing', 'inApp').getAttribute('role')).toBe('switch');
    violations['preferences, light'] = await axe(page);

    // Keyboard: Tab reaches the first switch (billing, in-app); Space turns it off.
    for (let i = 0; i < 6 && !(await focused(page)).startsWith('input'); i++) {
      await page.page.keyboard.press('Tab');
    }
    expect(await focused(page)).toBe('input[inApp]@billing');
    const saved = page.page.evaluate(
      () =>
        new Promise((resolve) =>
          document.addEventListener(
            'rtnotify-preferences',
            (e) => resolve((e as CustomEvent).detail),
            {
              once: true,
            },
          ),
        ),
    );
    await page.page.keyboard.press('Space');
    expect(await toggle(page, 'billing', 'inApp').isChecked()).toBe(false);
    expect(await saved).toEqual({ categories: { billing: { inApp: false, fallback: true } } });
    expect(await preferencesOf(name)).toEqual({
      categories: { billing: { inApp: false, fallback: true } },
    });
    // It takes effect: a billing notification is muted, another category's arrives.
    expect(await send(name, 'billing')).toMatchObject({ stored: 0, suppressed: 1 });
    const social = await send(name, 'social');
    expect(social).toMatchObject({ stored: 1, suppressed: 0 });

    // A click turns the email fallback of another category off.
    await toggle(page, 'social', 'fallback').click();
    await expect
      .poll(() => preferencesOf(name))
      .toEqual({
        categories: {
          billing: { inApp: false, fallback: true },
          social: { inApp: true, fallback: false },
        },
      });
    violations['preferences, changed'] = await axe(page);
    await mkdir('test-results', { recursive: true });
    await page.page.screenshot({ path: 'test-results/inbox-preferences-light.png' });

    // Back in the list: the social one arrived live, nothing of billing.
    await $(page, '.back').click();
    await page.waitForItem(social.ids[0]);
    expect(await $(page, 'li.item').allTextContents()).toEqual([
      expect.stringContaining('About social'),
      expect.stringContaining('About invoices'),
    ]);

    // A reload shows what is saved.
    await page.page.reload();
    await page.waitForState('open');
    await page.openPanel();
    await $(page, '.show-preferences').click();
    await toggle(page, 'billing', 'inApp').waitFor();
    expect(await toggle(page, 'billing', 'inApp').isChecked()).toBe(false);
    expect(await toggle(page, 'billing', 'fallback').isChecked()).toBe(true);
    expect(await toggle(page, 'social', 'fallback').isChecked()).toBe(false);
    await page.page.evaluate(() => {
      document.querySelector('rtnotify-inbox')!.setAttribute('theme', 'dark');
    });
    violations['preferences, dark'] = await axe(page);
    await page.page.screenshot({ path: 'test-results/inbox-preferences-dark.png' });

    // Back to the notifications: the focus returns to the Preferences button.
    await $(page, '.back').click();
    await $(page, '.panel[data-page="inbox"]').waitFor();
    expect(await focused(page)).toBe('button.link.icon.show-preferences');
    expect(await $(page, '.show-preferences').getAttribute('aria-label')).toBe('Preferences');

    for (const [state, found] of Object.entries(violations)) expect(found, state).toEqual([]);
  });

  it('puts a refused change back and says so in an alert; a failed load offers a retry', async () => {
    const name = 'prefs-refused';
    const page = await signedIn(name);
    await page.openPanel();
    await $(page, '.show-preferences').click();
    await toggle(page, 'system', 'inApp').waitFor();

    // The server refuses the change (as it would a bad body): the switch goes back.
    await page.page.route('**/v1/me/preferences', (route) =>
      route.request().method() === 'PATCH'
        ? route.fulfill({
            status: 400,
            contentType: 'application/json',
            body: JSON.stringify({ statusCode: 400, message: ['categories.system: refused'] }),
          })
        : route.continue(),
    );
    const error = page.page.evaluate(
      () =>
        new Promise((resolve) =>
          document.addEventListener('rtnotify-error', (e) => resolve((e as CustomEvent).detail), {
            once: true,
          }),
        ),
    );
    await toggle(page, 'system', 'inApp').click();
    await $(page, '[role="alert"] [data-state="save-failed"]').waitFor();
    expect((await $(page, '[role="alert"]').textContent())?.trim()).toBe(
      'Your change to system could not be saved.',
    );
    expect(await toggle(page, 'system', 'inApp').isChecked()).toBe(true);
    expect(await error).toEqual({
      code: 'preferences_failed',
      message: 'PATCH /v1/me/preferences: 400 (categories.system: refused)',
    });
    expect(await preferencesOf(name)).toEqual({ categories: {} });
    const refused = await axe(page);

    // A load that fails: the error state with its retry, which loads them.
    await page.page.unroute('**/v1/me/preferences');
    await page.page.route('**/v1/me/preferences', (route) =>
      route.fulfill({ status: 503, contentType: 'application/json', body: '{}' }),
    );
    await $(page, '.back').click();
    await $(page, '.show-preferences').click();
    await $(page, '.prefs [data-state="error"] .retry').waitFor();
    const failed = await axe(page);
    await page.page.unroute('**/v1/me/preferences');
    await $(page, '.retry').click();
    await toggle(page, 'system', 'inApp').waitFor();

    // The change goes through now; the alert is empty again.
    await toggle(page, 'system', 'inApp').click();
    await expect
      .poll(() => preferencesOf(name))
      .toEqual({ categories: { system: { inApp: false, fallback: true } } });
    expect(await $(page, '[data-state="save-failed"]').count()).toBe(0);
    expect(refused, 'save refused').toEqual([]);
    expect(failed, 'load failed').toEqual([]);
  });
});
