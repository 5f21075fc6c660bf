import { startTestApp, type TestApp } from '../../kit/test-app.js';
import { signToken } from '../../kit/tokens.mjs';
import { useWatchedService, waitForCanary } from '../../kit/watched-service.js';
import { TestClient } from '../../kit/ws-client.js';
import { API_KEY, FUZZ_MAX_FRAME_BYTES } from './oracles.js';

/**
 * The built service for the hostile specs (see useWatchedService): with a bystander stream, no
 * practical rate limit and frames large enough for 100k `[` to reach the JSON parser.
 */
export function useHostileService(name: string) {
  return useWatchedService({
    name,
    apiKey: API_KEY,
    bystander: true,
    env: {
      MAX_MESSAGES_PER_MINUTE: '1000000',
      MAX_FRAME_BYTES: String(FUZZ_MAX_FRAME_BYTES),
    },
  });
}

/**
 * The real app in this process with the default rate limit and a small send buffer, started once for
 * the file, with a canary user that must receive a notification after every test. Registers the
 * hooks; call it at the top of a `describe`. At the end the test process (which hosts the app) must
 * have grown by less than 300 MiB: a loose bound on the app's memory.
 */
export function useDefaultLimitsApp(): { readonly app: TestApp } {
  let t: TestApp | undefined;
  let canary: TestClient | undefined;
  let canarySeq = 0;
  let rssBefore = 0;

  beforeAll(async () => {
    t = await startTestApp({ API_KEYS: API_KEY, MAX_BUFFERED_BYTES: String(64 * 1024) });
    canary = await TestClient.ready(t.wsUrl, { token: await signToken('canary') });
    rssBefore = process.memoryUsage().rss;
  });
  afterEach(async () => {
    const n = ++canarySeq;
    await t!.producer.add('notify', { userId: 'canary', type: 'canary.tick', payload: { n } });
    await waitForCanary(canary!, n);
  });
  afterAll(async () => {
    const grownMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    expect(grownMiB).toBeLessThan(300);
    await canary?.close();
    await t?.close();
  });

  return {
    get app(): TestApp {
      if (!t) throw new Error('the app is not started (beforeAll)');
      return t;
    },
  };
}
