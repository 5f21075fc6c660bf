import { parseNotificationId } from '@rtnotify/protocol';
import { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { redisOptionsFromUrl } from '../../src/redis/redis-url.js';
import { http, scrapeMetrics } from './http.mjs';
import { rssKiB } from './processes.mjs';
import { startService, type ServiceProcess } from './service.mjs';
import { eventually, sleep } from './timing.mjs';
import { TEST_JWT_SECRET, signToken } from './tokens.mjs';
import { closeAfterEach, TestClient, type ConnectOptions } from './ws-client.js';

/** A line of a stack trace. */
export const STACK_LINE = /\n\s+at /;
/** Anything shaped like a JWT. */
export const JWT_SHAPE = /eyJ[\w-]+\.[\w-]+\./;

/** Waits (10 s at most) for the canary's notification with `payload.n` equal to `n`. */
export async function waitForCanary(canary: TestClient, n: number): Promise<void> {
  await eventually(
    () => canary.all('notification').some((data) => data.notification.payload.n === n),
    10_000,
    `canary notification ${n}`,
  );
}

export interface WatchedServiceOptions {
  /** Names its queue and key prefix (with a random suffix). */
  name: string;
  /** The API key it accepts for publishing (API_KEYS). */
  apiKey: string;
  /** More environment for the service (NODE_ENV=production, its secret and Redis are given). */
  env?: Record<string, string>;
  /**
   * Also stream a bystander user a notification every 50 ms from the start, for `expectUnharmed()`
   * to check at the end, with the service's memory before the first test.
   */
  bystander?: boolean;
}

/**
 * The built service as its own process (production mode, on the tests' Redis), started once for
 * the file, with a canary user whose socket, opened at the start, must receive a notification
 * published after every test: a test that harmed the service fails in its own `afterEach`.
 * Registers the hooks; call it at the top of a `describe`.
 */
export function useWatchedService(options: WatchedServiceOptions) {
  const queueName = `${options.name}-${randomBytes(4).toString('hex')}`;
  let service: ServiceProcess | undefined;
  let queue: Queue | undefined;
  let canary: TestClient | undefined;
  let canarySeq = 0;
  let bystander: TestClient | undefined;
  let streamed = 0;
  let streaming = false;
  let stream: Promise<void> = Promise.resolve();
  let rssBeforeKiB = 0;

  const watched = {
    queueName,
    get service(): ServiceProcess {
      if (!service) throw new Error('the service is not started (beforeAll)');
      return service;
    },
    /** A BullMQ producer on the service's queue. */
    get queue(): Queue {
      if (!queue) throw new Error('the service is not started (beforeAll)');
      return queue;
    },

    /** Keeps `client` to be closed after the test. */
    track(client: TestClient): TestClient {
      return track(client);
    },

    /** A socket to the service, closed after the test. */
    connect(connectOptions: ConnectOptions = {}): TestClient {
      return watched.track(TestClient.connect(watched.service.wsUrl, connectOptions));
    },

    /** A socket of user `sub` once `ready`, closed after the test. */
    async ready(sub: string): Promise<TestClient> {
      const client = watched.connect({ token: await signToken(sub) });
      await client.next('ready');
      return client;
    },

    /** The canary user gets a notification published now, on its socket opened at the start. */
    async canaryCheck(): Promise<void> {
      const n = ++canarySeq;
      const published = await http('POST', `${watched.service.httpUrl}/v1/notifications`, {
        token: options.apiKey,
        body: { userId: 'canary', type: 'canary.tick', payload: { n } },
      });
      expect(published.status).toBe(202);
      await waitForCanary(canary!, n);
    },

    /**
     * The process is up and healthy, its memory grew by less than `rssGrowthMiB`, the bystander got
     * every notification exactly once in store order, and its log holds no token, secret or stack
     * trace (nor an ERROR line). The bystander's stream goes on until it has sent more than
     * `minStreamed`.
     */
    async expectUnharmed(
      label: string,
      { rssGrowthMiB = 200, minStreamed = 10 } = {},
    ): Promise<void> {
      const s = watched.service;
      expect(s.process.exitCode).toBeNull();
      expect((await http('GET', `${s.httpUrl}/health/live`)).status).toBe(200);
      expect((await http('GET', `${s.httpUrl}/health/ready`)).status).toBe(200);
      await watched.ready('last-good-client');

      if (options.bystander) {
        // A file whose tests run fast (a quiet machine) may end before the stream is long enough.
        await eventually(() => streamed > minStreamed, 20_000, `more than ${minStreamed} streamed`);
        streaming = false;
        await stream;
        await eventually(
          () => bystander!.all('notification').length >= streamed,
          20_000,
          `bystander got ${streamed}`,
        );
        // Every one exactly once, in store order (ids only grow). Store order is what the protocol
        // promises: with WORKER_CONCURRENCY > 1 two jobs added 50 ms apart may be stored the other
        // way round when the worker's event loop stalls (seen under load).
        const got = bystander!.all('notification');
        const want = Array.from({ length: streamed }, (_, n) => n);
        expect(got.map((data) => data.notification.payload.n).sort((a, b) => a - b)).toEqual(want);
        const seqs = got.map((data) => parseNotificationId(data.notification.id)?.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a! - b!));
        expect(new Set(seqs).size).toBe(seqs.length);
        expect(streamed).toBeGreaterThan(minStreamed);

        const rssAfterKiB = rssKiB(s.pid!);
        console.log(
          `[${label}] service VmRSS ${Math.round(rssBeforeKiB / 1024)} MiB → ` +
            `${Math.round(rssAfterKiB / 1024)} MiB; bystander got ${streamed} notifications`,
        );
        expect(rssAfterKiB - rssBeforeKiB).toBeLessThan(rssGrowthMiB * 1024);
      }

      const log = s.output();
      expect(log).toContain('listening on');
      expect(log).not.toMatch(JWT_SHAPE);
      expect(log).not.toContain(TEST_JWT_SECRET);
      expect(log).not.toContain(options.apiKey);
      // No client-triggered error leaves a stack line or an error entry.
      expect(log).not.toMatch(STACK_LINE);
      expect(log).not.toMatch(/ERROR/);
    },

    /** How many notifications the bystander stream has sent so far. */
    get streamed(): number {
      return streamed;
    },
  };

  beforeAll(async () => {
    service = await startService({
      NODE_ENV: 'production',
      JWT_SECRET: TEST_JWT_SECRET,
      REDIS_URL: inject('redisUrl'),
      API_KEYS: options.apiKey,
      NOTIFY_QUEUE: queueName,
      KEY_PREFIX: queueName,
      ...options.env,
    });
    queue = new Queue(queueName, { connection: redisOptionsFromUrl(inject('redisUrl')) });
    canary = await TestClient.ready(service.wsUrl, { token: await signToken('canary') });
    if (!options.bystander) return;
    bystander = await TestClient.ready(service.wsUrl, { token: await signToken('bystander') });
    // Warm up before the baseline: a few notifications, an inbox page, a metrics scrape.
    for (let i = 0; i < 3; i++) await watched.canaryCheck();
    await http('GET', `${service.httpUrl}/v1/me/notifications`, {
      token: await signToken('canary'),
    });
    await scrapeMetrics(service.httpUrl);
    rssBeforeKiB = rssKiB(service.pid!);
    // Another user's notifications flow during all of it: one every 50 ms, checked at the end.
    streaming = true;
    const producer = queue;
    stream = (async () => {
      while (streaming) {
        await producer.add('notify', {
          userId: 'bystander',
          type: 'stream.tick',
          payload: { n: streamed },
        });
        streamed++;
        await sleep(50);
      }
    })();
  });

  afterEach(async () => {
    await watched.canaryCheck();
  });
  // Registered after the canary's check, so that it runs first (vitest runs after-hooks as a stack):
  // the test's clients are closed before the canary is checked.
  const track = closeAfterEach();

  afterAll(async () => {
    streaming = false;
    await stream;
    await canary?.close();
    await bystander?.close();
    await queue?.close();
    await service?.stop('SIGKILL');
  });

  return watched;
}
