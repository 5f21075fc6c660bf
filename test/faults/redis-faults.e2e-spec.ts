import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisServer } from '../kit/redis.mjs';
import { redisOptionsFromUrl } from '../../src/redis/redis-url.js';
import { reportCounts } from '../kit/counts.js';
import { upgradeHead } from '../kit/raw-http.mjs';
import { eventually } from '../kit/timing.mjs';
import { http, storedIds } from '../kit/http.mjs';
import { waitForJobs } from '../kit/jobs.js';
import { ResumingTab } from '../kit/resuming-tab.mjs';
import { startService, type ServiceProcess } from '../kit/service.mjs';
import { TEST_JWT_SECRET, signToken } from '../kit/tokens.mjs';

const API_KEY = 'fault-suite-key-0123456789';

function serviceEnv(
  redis: RedisServer,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: 'production',
    JWT_SECRET: TEST_JWT_SECRET,
    REDIS_URL: redis.url,
    API_KEYS: API_KEY,
    NOTIFY_QUEUE: `faults-${randomBytes(3).toString('hex')}`,
    JOB_LOCK_MS: '2000',
    ...extra,
  };
}

/**
 * A raw TCP client of the service's socket endpoint, connected at once. It upgrades as a user when
 * told, and keeps what it reads (latin1) for the test to look in.
 */
function rawSocketOf(service: ServiceProcess) {
  const url = new URL(service.wsUrl);
  const socket = connectTcp(Number(url.port), '127.0.0.1');
  let read = '';
  socket.on('data', (chunk: Buffer) => (read += chunk.toString('latin1')));
  return {
    read: () => read,
    /** Sends the upgrade with `user`'s token; resolves once the `101` is in. */
    async upgrade(user: string): Promise<void> {
      const token = await signToken(user);
      socket.write(upgradeHead(url.pathname, [`Sec-WebSocket-Protocol: bearer, ${token}`]));
      await eventually(() => read.startsWith('HTTP/1.1 101 '), 5_000, 'the 101');
    },
    /** Resolves once a `ready` frame is in; failing, says what it read and what the service logged. */
    async untilReady(): Promise<void> {
      await eventually(() => read.includes('{"event":"ready"'), 30_000, 'ready').catch(
        (error: Error) => {
          const what = JSON.stringify(read.slice(0, 400));
          const logged = service.output().slice(-2000);
          throw new Error(
            `${error.message}; the socket read ${what}; the service logged:\n${logged}`,
          );
        },
      );
    },
    destroy: () => socket.destroy(),
  };
}

/** Publishes over HTTP until acknowledged (202), retrying 503s with the same dedupeKey. */
async function publishUntilAcked(
  service: ServiceProcess,
  body: object,
  stats: { refused: number; slowestRefusalMs: number },
): Promise<void> {
  for (;;) {
    const started = Date.now();
    const answer = await http('POST', `${service.httpUrl}/v1/notifications`, {
      token: API_KEY,
      body,
    }).catch(() => ({ status: 0, body: undefined }));
    if (answer.status === 202) return;
    if (answer.status !== 503 && answer.status !== 0) {
      throw new Error(`publish answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    stats.refused++;
    stats.slowestRefusalMs = Math.max(stats.slowestRefusalMs, Date.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('faults: Redis (e2e)', { timeout: 120_000 }, () => {
  it('Redis SIGKILLed and restarted with AOF while notifications flow: every acknowledged one is stored and delivered once; enqueues during the outage fail fast', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'notif-aof-'));
    let redis = await startRedis({ appendonly: true, dir });
    const service = await startService(serviceEnv(redis));
    const users = ['k-0', 'k-1', 'k-2', 'k-3'];
    const tokens = await Promise.all(users.map((u) => signToken(u)));
    const tabs = tokens.map((token) => new ResumingTab(token, () => service.wsUrl));
    await Promise.all(tabs.map((tab) => tab.open()));
    const stats = { refused: 0, slowestRefusalMs: 0 };
    const total = 300;
    try {
      let acked = 0;
      const producing = (async () => {
        for (let n = 0; n < total; n++) {
          const body = {
            userId: users[n % users.length],
            type: 'aof.tick',
            payload: { n },
            dedupeKey: `m-${n}`,
          };
          await publishUntilAcked(service, body, stats);
          acked++;
        }
      })();
      await eventually(() => acked >= 100, 30_000, '100 acknowledged');
      await redis.kill();
      // While it is down, publishes are refused (503) rather than left hanging.
      await eventually(() => stats.refused >= 5, 30_000, 'refusals during the outage');
      redis = await startRedis({ appendonly: true, dir, port: redis.port });
      await producing;

      let stored = 0;
      let delivered = 0;
      let lost = 0;
      let duplicated = 0;
      for (const [i, token] of tokens.entries()) {
        const ids = await eventually(
          async () => {
            const got = await storedIds(service.httpUrl, token);
            return got.length >= total / users.length && got;
          },
          30_000,
          `history of ${users[i]}`,
        );
        stored += ids.length;
        await tabs[i].waitFor(ids.length);
        delivered += tabs[i].received.length;
        lost += ids.filter((id) => !tabs[i].received.includes(id)).length;
        duplicated += tabs[i].duplicates;
        expect(tabs[i].received).toEqual(ids);
      }
      reportCounts('redis SIGKILL + AOF restart', {
        sent: total,
        stored,
        delivered,
        lost,
        duplicated,
      });
      console.log(
        `[fault] publishes refused during the outage: ${stats.refused}, slowest refusal ${stats.slowestRefusalMs} ms`,
      );
      expect(stored).toBe(total);
      expect({ lost, duplicated }).toEqual({ lost: 0, duplicated: 0 });
      expect(service.process.exitCode).toBeNull();
    } finally {
      await Promise.all(tabs.map((tab) => tab.close()));
      await service.stop('SIGKILL');
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Redis restarted without persistence: clients resume with truncated, and nothing is claimed that is not there', async () => {
    let redis = await startRedis();
    const service = await startService(serviceEnv(redis));
    const token = await signToken('amnesia');
    const tab = new ResumingTab(token, () => service.wsUrl);
    await tab.open();
    try {
      for (let n = 0; n < 5; n++) {
        await publishUntilAcked(
          service,
          { userId: 'amnesia', type: 'before.loss', payload: { n } },
          { refused: 0, slowestRefusalMs: 0 },
        );
      }
      await tab.waitFor(5);
      expect(tab.received).toHaveLength(5);

      await redis.kill();
      redis = await startRedis({ port: redis.port });
      // The socket is made to resume; its `since` is from a history that no longer exists.
      await eventually(() => tab.truncations > 0, 30_000, 'a truncated resume');
      const inbox = await http('GET', `${service.httpUrl}/v1/me/notifications`, { token });
      expect(inbox.body).toMatchObject({ items: [], unread: 0 });

      await publishUntilAcked(
        service,
        { userId: 'amnesia', type: 'after.loss' },
        { refused: 0, slowestRefusalMs: 0 },
      );
      await tab.waitFor(6);
      const after = await storedIds(service.httpUrl, token);
      expect(after).toHaveLength(1);
      expect(tab.received.at(-1)).toBe(after[0]);
      // The 5 stored before the restart went with Redis's data (no persistence): the client was told
      // (truncated) and nothing claims them; the one stored after is delivered.
      reportCounts(
        'redis restart without persistence (5 stored before it lost with the data, told as truncated)',
        {
          sent: 6,
          stored: after.length,
          delivered: tab.received.length,
          lost: 0,
          duplicated: tab.duplicates,
        },
      );
      expect(tab.duplicates).toBe(0);
    } finally {
      await tab.close();
      await service.stop('SIGKILL');
      await redis.stop();
    }
  });

  it('a socket that connects while Redis is down gets its 101 at once, and ready once Redis is back', async () => {
    let redis = await startRedis();
    const service = await startService(serviceEnv(redis));
    const socket = rawSocketOf(service);
    try {
      await redis.kill();
      // The gateway holds a 101 back for the socket's first frames (HandshakeHolds), for 100 ms
      // and up to a heartbeat tick more: this connect cannot get them before Redis is back.
      const startedAt = Date.now();
      await socket.upgrade('early-bird');
      const upgradedMs = Date.now() - startedAt;
      expect(socket.read()).not.toContain('"event":"ready"');

      redis = await startRedis({ port: redis.port });
      const backAt = Date.now();
      await socket.untilReady();
      console.log(
        `[faults] connect during an outage: 101 after ${upgradedMs} ms, ready ${Date.now() - backAt} ms after Redis was back`,
      );
    } finally {
      socket.destroy();
      await service.stop('SIGKILL');
      await redis.stop();
    }
  });

  it('a socket whose channel is still being subscribed when Redis goes away gets ready once it is back', async () => {
    let redis = await startRedis();
    const service = await startService(serviceEnv(redis));
    const admin = new Redis(redis.url);
    const socket = rawSocketOf(service);
    try {
      // Redis answers no one for a while: the socket's SUBSCRIBE stays unanswered when it dies, so
      // the gateway learns of the loss after the connect began (as under load it may anyway).
      await admin.call('CLIENT', 'PAUSE', '20000', 'ALL');
      await socket.upgrade('paused');

      admin.disconnect();
      await redis.kill();
      redis = await startRedis({ port: redis.port });
      const backAt = Date.now();
      await socket.untilReady();
      console.log(
        `[faults] connect with its SUBSCRIBE lost with Redis: ready ${Date.now() - backAt} ms after Redis was back`,
      );
      // Not closed to resume: its snapshot was taken once the channel was subscribed again.
      expect(socket.read()).not.toContain('resume with since');
    } finally {
      admin.disconnect();
      socket.destroy();
      await service.stop('SIGKILL');
      await redis.stop();
    }
  });

  it('a worker SIGKILLed mid-batch: the job is retried, nothing is stored twice, no socket sees an id twice', async () => {
    const redis = await startRedis();
    const env = serviceEnv(redis, { WORKER_CONCURRENCY: '4' });
    const gateway = await startService({ ...env, ROLE: 'gateway' });
    let worker = await startService({ ...env, ROLE: 'worker' });
    const connection = redisOptionsFromUrl(redis.url);
    const producer = new Queue(env.NOTIFY_QUEUE, { connection });
    const events = new QueueEvents(env.NOTIFY_QUEUE, { connection });
    await events.waitUntilReady();
    const users = Array.from({ length: 1000 }, (_, i) => `batch-${i}`);
    const watched = ['batch-0', 'batch-499', 'batch-999'];
    const tokens = await Promise.all(watched.map((u) => signToken(u)));
    const tabs = tokens.map((token) => new ResumingTab(token, () => gateway.wsUrl));
    await Promise.all(tabs.map((tab) => tab.open()));
    const jobsCount = 30;
    try {
      const jobs = await producer.addBulk(
        Array.from({ length: jobsCount }, (_, n) => ({
          name: 'notify',
          data: { userIds: users, type: 'batch.tick', payload: { n } },
          opts: { attempts: 5, backoff: { type: 'exponential', delay: 200 } },
        })),
      );
      await jobs[0].waitUntilFinished(events, 30_000);
      await worker.stop('SIGKILL');
      worker = await startService({ ...env, ROLE: 'worker' });
      await waitForJobs(jobs, events, 60_000);

      let stored = 0;
      let delivered = 0;
      let duplicated = 0;
      for (const [i, token] of tokens.entries()) {
        const ids = await storedIds(gateway.httpUrl, token);
        expect(ids).toHaveLength(jobsCount);
        stored += ids.length;
        await tabs[i].waitFor(jobsCount);
        expect(tabs[i].received).toEqual(ids);
        delivered += tabs[i].received.length;
        duplicated += tabs[i].duplicates;
      }
      const sample = await Promise.all(
        ['batch-1', 'batch-250', 'batch-777'].map(
          async (u) => (await storedIds(gateway.httpUrl, await signToken(u))).length,
        ),
      );
      expect(sample).toEqual([jobsCount, jobsCount, jobsCount]);
      reportCounts('worker SIGKILL mid-batch (watched users)', {
        sent: jobsCount * watched.length,
        stored,
        delivered,
        lost: jobsCount * watched.length - delivered,
        duplicated,
      });
      expect(duplicated).toBe(0);
    } finally {
      await Promise.all(tabs.map((tab) => tab.close()));
      await producer.close();
      await events.close();
      await Promise.all([gateway.stop('SIGKILL'), worker.stop('SIGKILL')]);
      await redis.stop();
    }
  });
});
