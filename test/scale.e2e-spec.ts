import { Queue, QueueEvents, type Job } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { startRedis, type RedisServer } from './kit/redis.mjs';
import { redisOptionsFromUrl } from '../src/redis/redis-url.js';
import { waitForJobs } from './kit/jobs.js';
import { storedIds } from './kit/http.mjs';
import { ResumingTab } from './kit/resuming-tab.mjs';
import { startService, type ServiceProcess } from './kit/service.mjs';
import { TEST_JWT_SECRET, signToken } from './kit/tokens.mjs';

/** Two gateways and a worker as separate processes of the built service, sharing one Redis. */
describe('scale out: 2 gateways + 1 worker (e2e)', { timeout: 120_000 }, () => {
  let redis: RedisServer;
  let env: Record<string, string>;
  let gatewayA: ServiceProcess;
  let gatewayB: ServiceProcess;
  let worker: ServiceProcess;
  let producer: Queue;
  let events: QueueEvents;
  const tabs: ResumingTab[] = [];
  const tokens: Record<string, string> = {};
  let sent = 0;

  beforeAll(async () => {
    redis = await startRedis();
    const id = randomBytes(4).toString('hex');
    env = {
      NODE_ENV: 'production',
      JWT_SECRET: TEST_JWT_SECRET,
      REDIS_URL: redis.url,
      NOTIFY_QUEUE: `scale-${id}`,
      JOB_LOCK_MS: '2000',
      WORKER_CONCURRENCY: '8',
    };
    [gatewayA, gatewayB, worker] = await Promise.all([
      startService({ ...env, ROLE: 'gateway' }),
      startService({ ...env, ROLE: 'gateway' }),
      startService({ ...env, ROLE: 'worker' }),
    ]);
    const connection = redisOptionsFromUrl(redis.url);
    producer = new Queue(env.NOTIFY_QUEUE, { connection });
    events = new QueueEvents(env.NOTIFY_QUEUE, { connection });
    await events.waitUntilReady();
    tokens.both = await signToken('on-both');
    tokens.one = await signToken('on-one');
    // One user with a tab on each gateway, another on gateway A only; a tab whose gateway goes away
    // resumes on gateway B.
    const preferA = () => (gatewayA.process.exitCode === null ? gatewayA.wsUrl : gatewayB.wsUrl);
    tabs.push(
      new ResumingTab(tokens.both, preferA),
      new ResumingTab(tokens.both, () => gatewayB.wsUrl),
      new ResumingTab(tokens.one, preferA),
    );
    await Promise.all(tabs.map((tab) => tab.open()));
  });

  afterAll(async () => {
    await Promise.all(tabs.map((tab) => tab.close()));
    await producer?.close();
    await events?.close();
    await Promise.all([gatewayA, gatewayB, worker].map((p) => p?.stop('SIGKILL')));
    await redis?.stop();
  });

  function batch(size: number): { name: string; data: object }[] {
    return Array.from({ length: size }, () => {
      sent++;
      return {
        name: 'notify',
        data: {
          userId: sent % 3 === 0 ? 'on-one' : 'on-both',
          type: 'scale.tick',
          payload: { n: sent },
        },
      };
    });
  }

  async function expectComplete(): Promise<void> {
    const both = await storedIds(gatewayB.httpUrl, tokens.both);
    const one = await storedIds(gatewayB.httpUrl, tokens.one);
    expect(both.length + one.length).toBe(sent);
    const expected = [both, both, one];
    await Promise.all(tabs.map((tab, i) => tab.waitFor(expected[i].length)));
    tabs.forEach((tab, i) => {
      expect({
        tab: i,
        duplicates: tab.duplicates,
        reordered: tab.reordered,
        truncated: tab.truncations,
      }).toEqual({ tab: i, duplicates: 0, reordered: 0, truncated: 0 });
      expect(tab.received).toEqual(expected[i]);
    });
  }

  it('delivers each notification exactly once to every socket of its user, across gateways', async () => {
    const jobs = await producer.addBulk(batch(90));
    await waitForJobs(jobs, events, 30_000);
    await expectComplete();
  });

  it('SIGTERM on a gateway mid-stream: its sockets get 1001 and resume on the other, losing nothing', async () => {
    let stopping: Promise<number | null> | undefined;
    for (let round = 0; round < 10; round++) {
      const jobs = await producer.addBulk(batch(20));
      if (round === 4) stopping = gatewayA.stop('SIGTERM');
      await waitForJobs(jobs, events, 30_000);
    }
    expect(await stopping).toBe(0);
    expect(tabs[0].closes.map((c) => c.code)).toContain(1001);
    expect(tabs[2].closes.map((c) => c.code)).toContain(1001);
    await expectComplete();
  });

  it('SIGKILL on the worker mid-stream, a new one started: nothing lost, nothing twice', async () => {
    const jobs: Job[] = [];
    for (let round = 0; round < 10; round++) {
      jobs.push(...(await producer.addBulk(batch(20))));
      if (round === 3) {
        await worker.stop('SIGKILL');
        worker = await startService({ ...env, ROLE: 'worker' });
      }
    }
    await waitForJobs(jobs, events, 60_000);
    await expectComplete();
  });
});
