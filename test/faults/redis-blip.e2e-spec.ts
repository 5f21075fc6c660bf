import {
  NotificationService,
  NotificationsModule,
  NotificationsUnavailableError,
} from '@rtnotify/nestjs';
import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisServer } from '../kit/redis.mjs';
import { redisOptionsFromUrl } from '../../src/redis/redis-url.js';
import { eventually, sleep, withTimeout } from '../kit/timing.mjs';
import { http, metricValue, scrapeMetrics } from '../kit/http.mjs';
import { ResumingTab } from '../kit/resuming-tab.mjs';
import { startService, type ServiceProcess } from '../kit/service.mjs';
import { TEST_JWT_SECRET, signToken } from '../kit/tokens.mjs';

/**
 * Issue 13: Redis with `appendfsync always` SIGKILLed and restarted four times while 3,000
 * notifications flow from one kind of producer into the built service (default `JOB_LOCK_MS`, 30 s).
 * (a) every acknowledged notification is delivered exactly once; (b) every one sent before the last
 * outage is delivered within 10 s of Redis's last restart, and none waits for its job's lock to
 * expire; (c) a refused one retried with the same key is delivered exactly once; (d) a refused one
 * not retried at most once. Prints the slowest delivery after Redis came back.
 */
const TOTAL = 3000;
const USERS = 20;
const RATE_PER_SECOND = 100;
const LANES = 16;
/**
 * How long Redis stays down each of the four times: the shape of the blips, not waits for an
 * outcome. 3 s outlasts the store connection's retries (`maxRetriesPerRequest` 2), so stores fail
 * and are retried in process.
 */
const OUTAGES_MS = [1000, 3000, 1000, 3000];
const KILLS = OUTAGES_MS.length;
/** (b): every notification sent before the last outage is delivered this soon after it. */
const BOUND_MS = 10_000;
/**
 * Any notification's wait while Redis was up: below the default lock time, so none was left for the
 * stalled-job check; the rest is the backlog each outage leaves on a busy 2-core machine.
 */
const STALLED_BOUND_MS = 20_000;
const RETRY_AFTER_MS = 200;
/** A foreign producer gives up waiting for an add after this long (and retries, or not). */
const ADD_TIMEOUT_MS = 1500;
const API_KEY = 'blip-suite-key-0123456789';

/** Every tenth notification is not retried when refused; the others are, with the same key. */
const retried = (n: number) => n % 10 !== 0;

interface Notification {
  userId: string;
  type: string;
  payload: { n: number };
}

interface Producer {
  /** Sends notification `n` once: true when acknowledged; false when refused (error, 503, timeout). */
  send(n: number, notification: Notification): Promise<boolean>;
  close(): Promise<void>;
}

type ProducerFactory = (
  redisUrl: string,
  queueName: string,
  service: ServiceProcess,
) => Promise<Producer>;

/** A plain BullMQ producer as the README asks one to be: its own job id, default `attempts` (1). */
const foreignProducer: ProducerFactory = async (redisUrl, queueName) => {
  const queue = new Queue(queueName, { connection: redisOptionsFromUrl(redisUrl) });
  queue.on('error', () => undefined);
  await queue.waitUntilReady();
  return {
    async send(n, notification) {
      const adding = queue.add('notify', notification, { jobId: `blip-${n}` });
      return withTimeout(adding, ADD_TIMEOUT_MS, 'add').then(
        () => true,
        () => false,
      );
    },
    close: () => queue.close(),
  };
};

@Module({})
class ProducerHost {}

/** `NotificationService` in another Nest application (no gateway, no worker): retries carry a dedupeKey. */
const serviceProducer: ProducerFactory = async (redisUrl, queueName) => {
  const app = await NestFactory.createApplicationContext(
    {
      module: ProducerHost,
      imports: [
        BullModule.forRoot({ connection: redisOptionsFromUrl(redisUrl) }),
        NotificationsModule.forRoot({
          jwt: { secret: TEST_JWT_SECRET },
          queueName,
          gateway: false,
          worker: false,
        }),
      ],
    },
    { logger: false },
  );
  const notifications = app.get(NotificationService);
  return {
    async send(n, { userId, type, payload }) {
      const dedupeKey = retried(n) ? { dedupeKey: `blip-${n}` } : {};
      try {
        await notifications.notify(userId, { type, payload, ...dedupeKey });
        return true;
      } catch (error) {
        if (error instanceof NotificationsUnavailableError) return false;
        throw error;
      }
    },
    close: () => app.close(),
  };
};

/** HTTP publish: retries carry the same `Idempotency-Key`; a key's every 202 names one job. */
const httpProducer: ProducerFactory = async (_redisUrl, _queueName, service) => {
  const jobIds = new Map<number, string>();
  return {
    async send(n, notification) {
      const headers: Record<string, string> = retried(n) ? { 'idempotency-key': `blip-${n}` } : {};
      const answer = await http('POST', `${service.httpUrl}/v1/notifications`, {
        token: API_KEY,
        body: notification,
        headers,
      }).catch(() => ({ status: 0, body: undefined }));
      if (answer.status === 202) {
        const jobId = (answer.body as { jobId: string }).jobId;
        if (jobIds.has(n) && jobIds.get(n) !== jobId) throw new Error(`two job ids for ${n}`);
        jobIds.set(n, jobId);
        return true;
      }
      if (answer.status === 503 || answer.status === 0) return false;
      throw new Error(`publish answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    },
    async close() {},
  };
};

interface Sent {
  firstAt: number;
  refusals: number;
  acked: boolean;
}

/** Milliseconds Redis was up between `from` and `to`: the outages themselves do not count. */
function upTime(from: number, to: number, up: Array<{ from: number; to: number }>): number {
  return up.reduce((sum, p) => sum + Math.max(0, Math.min(to, p.to) - Math.max(from, p.from)), 0);
}

interface StoredItem {
  id: string;
  payload: { n: number };
}

/** Every notification in a user's inbox, page by page; rejects when a page is not answered 200. */
async function inboxItems(httpUrl: string, user: string): Promise<StoredItem[]> {
  const token = await signToken(user);
  const items: StoredItem[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `?limit=100${cursor ? `&before=${cursor}` : ''}`;
    const { status, body } = await http('GET', `${httpUrl}/v1/me/notifications${query}`, {
      token,
    });
    if (status !== 200) throw new Error(`inbox answered ${status}`);
    items.push(...(body.items as StoredItem[]));
    cursor = body.nextCursor;
  } while (cursor);
  return items;
}

/**
 * Why acknowledged notifications did not arrive: for each, its user's tab, whether its user's inbox
 * holds it, and (with a job id of its own) its job's state.
 */
async function describeMissing(
  missing: number[],
  context: {
    users: string[];
    sent: Map<number, Sent>;
    up: Array<{ from: number; to: number }>;
    tabs: ResumingTab[];
    monitor: Queue;
    service: ServiceProcess;
  },
): Promise<string> {
  const { users, sent, up, tabs, monitor, service } = context;
  const httpUrl = service.httpUrl;
  const start = up[0].from;
  const periods = up
    .map((p) => `${p.from - start}..${p.to === Infinity ? 'now' : p.to - start}`)
    .join(', ');
  const lines = [
    `service pid ${service.pid}; Redis up (ms from the start): ${periods}; now ${Date.now() - start}`,
  ];
  const inboxes = new Map<string, Map<number, string> | string>();
  for (const n of missing) {
    const userIndex = n % users.length;
    const user = users[userIndex];
    if (!inboxes.has(user)) {
      const inbox = await inboxItems(httpUrl, user).then(
        (items) => new Map(items.map((item) => [item.payload.n, item.id])),
        (error: Error) => error.message,
      );
      inboxes.set(user, inbox);
    }
    const inbox = inboxes.get(user)!;
    const record = sent.get(n)!;
    const tab = tabs[userIndex];
    const job = await monitor.getJob(`blip-${n}`).catch(() => undefined);
    const state = job ? await job.getState().catch((e: Error) => e.message) : 'no such job';
    lines.push(
      `n=${n} user=${user} first sent at ${record.firstAt - start} ms, refused ` +
        `${record.refusals}x; stored: ${typeof inbox === 'string' ? inbox : (inbox.get(n) ?? false)}; ` +
        `job blip-${n}: ${state}${
          job
            ? ` (attempts ${job.attemptsMade}, ` +
              `finished ${job.finishedOn ? job.finishedOn - start : '-'} ms, ` +
              `failed: ${job.failedReason ?? '-'})`
            : ''
        }; tab: socket ${tab.readyState}, ` +
        `${tab.received.length} received (${tab.duplicates} twice, ${tab.reordered} out of order, ` +
        `${tab.truncations} truncated replays), closes ` +
        `${tab.closes.map((c) => `${c.code} ${c.reason}`).join('; ') || 'none'}`,
    );
  }
  const counts = await monitor
    .getJobCounts('active', 'waiting', 'delayed', 'completed', 'failed')
    .catch((e: Error) => e.message);
  const active = await monitor.getActive().catch(() => []);
  const client = await monitor.client;
  const locks = await Promise.all(
    active.map((job) => client.get(`${monitor.toKey(job.id!)}:lock`).catch(() => '?')),
  );
  lines.push(
    `jobs: ${JSON.stringify(counts)}; active: ` +
      (active.map((job, i) => `${job.id} (lock ${locks[i]})`).join(', ') || 'none'),
  );
  // The service logs no tokens or payloads: its warnings say what it saw of the outages.
  const warnings = service
    .output()
    .split('\n')
    .filter((line) => /WARN|ERROR/.test(line) && !line.includes('ECONNREFUSED'))
    .map((line) => line.replace(/^\[Nest\] \d+ +- +[\d/]+, /, ''))
    .slice(-40);
  lines.push('service warnings but refused connects (last 40):', ...warnings);
  return lines.join('\n');
}

async function runBlips(label: string, makeProducer: ProducerFactory) {
  const dir = mkdtempSync(join(tmpdir(), 'notif-blip-'));
  let redis: RedisServer = await startRedis({ appendonly: true, dir });
  const queueName = `blips-${randomBytes(3).toString('hex')}`;
  const service = await startService({
    NODE_ENV: 'production',
    JWT_SECRET: TEST_JWT_SECRET,
    REDIS_URL: redis.url,
    API_KEYS: API_KEY,
    NOTIFY_QUEUE: queueName,
  });
  const users = Array.from({ length: USERS }, (_, i) => `blip-${i}`);
  const deliveries = new Map<number, number[]>();
  const tabs = await Promise.all(
    users.map(
      async (user) =>
        new ResumingTab(
          await signToken(user),
          () => service.wsUrl,
          ({ payload }) => {
            const n = (payload as { n: number }).n;
            deliveries.set(n, [...(deliveries.get(n) ?? []), Date.now()]);
          },
        ),
    ),
  );
  await Promise.all(tabs.map((tab) => tab.open()));
  const monitor = new Queue(queueName, { connection: redisOptionsFromUrl(redis.url) });
  monitor.on('error', () => undefined);
  let producer: Producer | undefined;
  try {
    producer = await makeProducer(redis.url, queueName, service);
    const sent = new Map<number, Sent>();
    const up = [{ from: Date.now(), to: Infinity }];
    let next = 0;
    let settled = 0;
    const started = Date.now();
    // A steady flow of new notifications (retries come on top): no catching up after an outage.
    let nextSlot = started;
    const paced = () => {
      const at = Math.max(nextSlot, Date.now());
      nextSlot = at + 1000 / RATE_PER_SECOND;
      return sleep(at - Date.now());
    };

    const lane = async () => {
      for (let n = next++; n < TOTAL; n = next++) {
        await paced();
        const notification = { userId: users[n % USERS], type: 'blip.tick', payload: { n } };
        const record: Sent = { firstAt: Date.now(), refusals: 0, acked: false };
        sent.set(n, record);
        for (;;) {
          if (await producer!.send(n, notification)) {
            record.acked = true;
            break;
          }
          record.refusals++;
          if (!retried(n)) break;
          await sleep(RETRY_AFTER_MS);
        }
        settled++;
      }
    };
    const killer = async () => {
      for (let k = 1; k <= KILLS; k++) {
        await eventually(() => settled >= (k * TOTAL) / (KILLS + 1), 60_000, `blip ${k} due`);
        await redis.kill();
        up[up.length - 1].to = Date.now();
        await sleep(OUTAGES_MS[k - 1]);
        redis = await startRedis({ appendonly: true, dir, port: redis.port });
        up.push({ from: Date.now(), to: Infinity });
      }
    };
    await Promise.all([...Array.from({ length: LANES }, lane), killer()]);
    const flowMs = Date.now() - started;
    const lastRestart = up[up.length - 1].from;

    const acked = [...sent].filter(([, s]) => s.acked).map(([n]) => n);
    await eventually(
      () => acked.every((n) => deliveries.has(n)),
      60_000,
      'every acknowledged notification delivered',
    ).catch(async (error: Error) => {
      const missing = acked.filter((n) => !deliveries.has(n));
      const details = await describeMissing(missing.slice(0, 20), {
        users,
        sent,
        up,
        tabs,
        monitor,
        service,
      });
      throw new Error(`${error.message}: ${missing.length} missing\n${details}`);
    });
    // A sender that never got its answer sends again with the same key: nothing is added twice (and
    // over HTTP the answer names the first job).
    const replayed = acked.filter((n) => retried(n)).filter((_, i) => i % 60 === 0);
    for (const n of replayed) {
      const notification = { userId: users[n % USERS], type: 'blip.tick', payload: { n } };
      expect(await producer.send(n, notification)).toBe(true);
    }
    // Settled: nothing left to run, retry or wait out (a refused add may still have landed).
    await eventually(
      async () => {
        const counts = await monitor.getJobCounts(
          'active',
          'waiting',
          'delayed',
          'prioritized',
          'paused',
          'waiting-children',
        );
        return Object.values(counts).every((c) => c === 0);
      },
      60_000,
      'the queue drained',
    );
    const { failed } = await monitor.getJobCounts('failed');
    const metrics = await scrapeMetrics(service.httpUrl);
    const storeRetries = metricValue(metrics, 'notifications_store_retries_total');
    const streamBreaks = metricValue(metrics, 'notifications_stream_breaks_total');

    const stored = new Map<number, number>();
    for (const user of users) {
      for (const { payload } of await inboxItems(service.httpUrl, user)) {
        stored.set(payload.n, (stored.get(payload.n) ?? 0) + 1);
      }
    }
    await eventually(
      () => [...stored.keys()].every((n) => deliveries.has(n)),
      BOUND_MS,
      'every stored notification delivered',
    );

    const count = (map: Map<number, unknown[] | number>, n: number) => {
      const value = map.get(n);
      return typeof value === 'number' ? value : (value?.length ?? 0);
    };
    const lost = acked.filter((n) => count(stored, n) === 0 || !deliveries.has(n)).length;
    const doubled = [...sent.keys()].filter(
      (n) => count(stored, n) > 1 || count(deliveries, n) > 1,
    ).length;
    const retriedRefused = acked.filter((n) => sent.get(n)!.refusals > 0);
    const givenUp = [...sent].filter(([, s]) => !s.acked).map(([n]) => n);
    const givenUpDelivered = givenUp.filter((n) => deliveries.has(n)).length;
    const socketDuplicates = tabs.reduce((sum, tab) => sum + tab.duplicates, 0);

    // How long each acknowledged notification waited while Redis was up (the outages themselves do
    // not count): a job left for the stalled-job check would show here as ~40 s.
    const waits = acked.map((n) => {
      const { firstAt } = sent.get(n)!;
      const deliveredAt = deliveries.get(n)![0];
      const blipped = up.some((p) => p.to >= firstAt && p.to <= deliveredAt);
      return { n, ms: upTime(firstAt, deliveredAt, up), blipped };
    });
    const slowest = (list: typeof waits) =>
      list.reduce((a, b) => (b.ms > a.ms ? b : a), { n: -1, ms: 0, blipped: false });
    const slowestOverall = slowest(waits);
    const slowestBlipped = slowest(waits.filter((w) => w.blipped));
    // Those sent before the last outage: how long after Redis's last restart the last one arrived.
    const lastKill = up[up.length - 2].to;
    const afterLastRestart = Math.max(
      0,
      ...acked
        .filter((n) => sent.get(n)!.firstAt < lastKill)
        .map((n) => deliveries.get(n)![0] - lastRestart),
    );
    console.log(
      `[fault] redis SIGKILL + AOF restart x${KILLS} (down ${OUTAGES_MS.join('/')} ms), ${label}: ` +
        `sent ${TOTAL}, acknowledged ${acked.length}, ` +
        `stored ${[...stored.values()].reduce((a, b) => a + b, 0)}, ` +
        `delivered ${[...deliveries.values()].reduce((a, b) => a + b.length, 0)}, lost ${lost}, ` +
        `doubled ${doubled}, failed jobs ${failed}; refused then retried with the same key ` +
        `${retriedRefused.length} (each delivered once); refused and not retried ${givenUp.length} ` +
        `(${givenUpDelivered} delivered anyway, none twice); ${replayed.length} acknowledged ones sent ` +
        `again with their key (nothing added); store retries ${storeRetries}; sockets resumed past ` +
        `a message of their channel that skipped the gateway ${streamBreaks}`,
    );
    console.log(
      `[fault] ${label}: slowest delivery after Redis came back ${slowestBlipped.ms} ms; slowest ` +
        `overall ${slowestOverall.ms} ms (time Redis was up between first send and delivery); those ` +
        `sent before the last outage all delivered ${afterLastRestart} ms after the last restart ` +
        `(bound ${BOUND_MS} ms); flow ${flowMs} ms`,
    );

    expect({ lost, doubled, failed, socketDuplicates }).toEqual({
      lost: 0,
      doubled: 0,
      failed: 0,
      socketDuplicates: 0,
    });
    expect(afterLastRestart).toBeLessThanOrEqual(BOUND_MS);
    // None waited for its lock to expire and the stalled-job check (30 s + up to 30 s).
    expect(slowestOverall.ms).toBeLessThanOrEqual(STALLED_BOUND_MS);
    expect(service.process.exitCode).toBeNull();
  } finally {
    await Promise.all(tabs.map((tab) => tab.close()));
    await producer?.close();
    await monitor.close();
    await service.stop('SIGKILL');
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('faults: Redis blips under a flow (e2e)', { timeout: 150_000 }, () => {
  it('a foreign BullMQ producer setting job ids: each acknowledged notification delivered once, soon after Redis is back', async () => {
    await runBlips('foreign BullMQ producer', foreignProducer);
  });

  it('NotificationService in another Nest application: each acknowledged notification delivered once, soon after Redis is back', async () => {
    await runBlips('NotificationService', serviceProducer);
  });

  it('HTTP publish with Idempotency-Key: each acknowledged notification delivered once, soon after Redis is back', async () => {
    await runBlips('HTTP publish', httpProducer);
  });
});
