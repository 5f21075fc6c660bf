import { connect, type NotificationsClient } from '@rtnotify/client';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { startRedis, type RedisServer } from '../kit/redis.mjs';
import { redisOptionsFromUrl } from '../../src/redis/redis-url.js';
import { reportCounts } from '../kit/counts.js';
import { metricValue, scrapeMetrics, storedIds } from '../kit/http.mjs';
import { eventually } from '../kit/timing.mjs';
import { waitForJobs } from '../kit/jobs.js';
import { startService, type ServiceProcess } from '../kit/service.mjs';
import { TcpBalancer } from '../kit/tcp-balancer.js';
import { TEST_JWT_SECRET, signToken } from '../kit/tokens.mjs';

const SOCKETS = 1000;
const USERS = 500;

interface Tab {
  user: string;
  client: NotificationsClient;
  received: string[];
  seen: Set<string>;
  duplicates: number;
  readies: number;
}

async function eventLoopP99Ms(service: ServiceProcess): Promise<number> {
  return (
    metricValue(await scrapeMetrics(service.httpUrl), 'nodejs_eventloop_lag_p99_seconds') * 1000
  );
}

describe('faults: a gateway SIGKILLed with 1,000 sockets (e2e)', { timeout: 180_000 }, () => {
  let redis: RedisServer;
  let gateways: ServiceProcess[];
  let worker: ServiceProcess;
  let balancer: TcpBalancer;
  let producer: Queue;
  let events: QueueEvents;
  const tabs: Tab[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const env = {
      NODE_ENV: 'production',
      JWT_SECRET: TEST_JWT_SECRET,
      REDIS_URL: redis.url,
      NOTIFY_QUEUE: `gwkill-${randomBytes(3).toString('hex')}`,
      MAX_SOCKETS_PER_USER: '10',
    };
    gateways = await Promise.all([0, 1].map(() => startService({ ...env, ROLE: 'gateway' })));
    worker = await startService({ ...env, ROLE: 'worker' });
    balancer = await TcpBalancer.start(() =>
      gateways
        .filter((g) => g.process.exitCode === null && g.process.signalCode === null)
        .map((g) => g.port),
    );
    const connection = redisOptionsFromUrl(redis.url);
    producer = new Queue(env.NOTIFY_QUEUE, { connection });
    events = new QueueEvents(env.NOTIFY_QUEUE, { connection });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    for (const tab of tabs) tab.client.close();
    await producer?.close();
    await events?.close();
    await balancer?.close();
    await Promise.all([...(gateways ?? []), worker].map((p) => p?.stop('SIGKILL')));
    await redis?.stop();
  });

  it('clients reconnect with full-jitter backoff to the other gateway and resume; nothing lost', async () => {
    for (let i = 0; i < SOCKETS; i++) {
      const user = `storm-${i % USERS}`;
      const token = await signToken(user);
      // The SDK as a page would use it, behind the load balancer: default backoff (1 s base, full jitter).
      const client = connect({
        url: `ws://127.0.0.1:${balancer.port}/ws`,
        token,
        WebSocket: WebSocket as never,
      });
      const tab: Tab = { user, client, received: [], seen: new Set(), duplicates: 0, readies: 0 };
      client.on('ready', () => tab.readies++);
      client.on('notification', ({ notification }) => {
        if (tab.seen.has(notification.id)) tab.duplicates++;
        tab.seen.add(notification.id);
        tab.received.push(notification.id);
      });
      tabs.push(tab);
    }
    await eventually(() => tabs.every((tab) => tab.readies === 1), 60_000, 'every socket ready');
    const [victim, survivor] = gateways;

    const jobs: Job[] = [];
    let n = 0;
    const produce = async (count: number) => {
      const added = await producer.addBulk(
        Array.from({ length: count }, () => ({
          name: 'notify',
          data: { userId: `storm-${n++ % USERS}`, type: 'storm.tick', payload: { n } },
        })),
      );
      jobs.push(...added);
      await waitForJobs(added, events, 60_000);
    };
    await produce(500);

    await eventLoopP99Ms(survivor); // resets the survivor's event-loop histogram
    await victim.stop('SIGKILL');
    // Notifications keep flowing while the clients of the dead gateway find the survivor.
    const flowing = (async () => {
      for (let round = 0; round < 10; round++) await produce(100);
    })();
    await eventually(
      () => tabs.every((tab) => tab.readies >= 1 && tab.client.state === 'open'),
      60_000,
      'every socket back',
    );
    const stormP99 = await eventLoopP99Ms(survivor);
    await flowing;
    const reconnected = tabs.filter((tab) => tab.readies > 1).length;

    let stored = 0;
    let delivered = 0;
    let lost = 0;
    let duplicated = 0;
    const histories = new Map<string, string[]>();
    for (const tab of tabs) {
      if (!histories.has(tab.user)) {
        const ids = await storedIds(survivor.httpUrl, await signToken(tab.user));
        histories.set(tab.user, ids);
        stored += ids.length;
      }
      const ids = histories.get(tab.user)!;
      await eventually(
        () => ids.every((id) => tab.seen.has(id)),
        20_000,
        `${tab.user} complete`,
      ).catch(() => undefined);
      lost += ids.filter((id) => !tab.seen.has(id)).length;
      duplicated += tab.duplicates;
      delivered += tab.received.length;
    }
    reportCounts(`gateway SIGKILL with ${SOCKETS} sockets (${reconnected} reconnected)`, {
      sent: jobs.length,
      stored,
      delivered,
      lost,
      duplicated,
    });
    console.log(
      `[fault] surviving gateway event-loop delay p99 during the reconnect storm: ${stormP99.toFixed(1)} ms`,
    );
    expect(stored).toBe(jobs.length);
    expect(reconnected).toBeGreaterThan(SOCKETS / 4);
    expect({ lost, duplicated }).toEqual({ lost: 0, duplicated: 0 });
    expect(stormP99).toBeLessThan(200);
  });
});
