/**
 * Load process that produces notifications: BullMQ `notify` jobs by the job contract (DESIGN.md),
 * at an open-loop rate. Every tick (~1 ms) it enqueues what the schedule says is due, stamped with
 * the time of that enqueue call (payload.t, see ../lib/clock.mjs). The schedule never waits for an
 * enqueue to complete: when Redis or the system falls behind, the delay shows in the latencies
 * instead of slowing the load down (no coordinated omission). How far the producer itself lagged
 * behind its schedule is reported apart (`lag`), so a starved load generator is visible.
 *
 * The same producer serves the three systems; jobs carry ours' default job options. With
 * `mode: 'service'` (ours only) it goes through the library's own producer API,
 * `NotificationService.notify` of the snapshot's `@rtnotify/nestjs` in a producer-only Nest context
 * (no gateway, no worker), instead of adding the jobs itself. With `mode: 'http'` (ours only) it
 * POSTs each notification to `/v1/notifications` with an API key, over keep-alive connections.
 */
import { Queue } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { sleep } from '../../test/kit/timing.mjs';
import { nowMs } from '../lib/clock.mjs';
import { JOB_OPTIONS } from '../lib/job-options.mjs';
import { serveRpc } from '../lib/rpc.mjs';
import { summarize } from '../lib/stats.mjs';
import { watchStalls } from '../lib/stalls.mjs';

const stalls = watchStalls();
let queue;
/** (data[]) => Promise: enqueues one notification per element. */
let enqueue;

/** A producer-only Nest host of the snapshot's packages (resolved as the service resolves them). */
async function serviceEnqueue(distRoot, redisUrl, clusterNodes, queueName) {
  const resolveFrom = createRequire(new URL(`../../${distRoot}/src/main.js`, import.meta.url));
  const load = (name) => import(pathToFileURL(resolveFrom.resolve(name)).href);
  await load('reflect-metadata');
  const { NestFactory } = await load('@nestjs/core');
  const { Module } = await load('@nestjs/common');
  const { BullModule } = await load('@nestjs/bullmq');
  const { NotificationsModule, NotificationService } = await load('@rtnotify/nestjs');
  class ProducerModule {}
  Module({
    imports: [
      BullModule.forRoot(await bullConnection(load, redisUrl, clusterNodes)),
      NotificationsModule.forRoot({ queueName, gateway: false, worker: false }),
    ],
  })(ProducerModule);
  const app = await NestFactory.createApplicationContext(ProducerModule, { logger: false });
  const service = app.get(NotificationService);
  return (items) =>
    Promise.all(
      items.map(({ userId, userIds, type, payload }) =>
        userIds
          ? service.notifyMany(userIds, { type, payload })
          : service.notify(userId, { type, payload }),
      ),
    );
}

/** Seeds `host:port,…` as ioredis takes them. */
const startupNodes = (clusterNodes) =>
  clusterNodes.split(',').map((seed) => {
    const [host, port] = seed.split(':');
    return { host, port: Number(port) };
  });

/** BullMQ's root options for the host: one Redis, or (as the service does) a cluster and `{rtnotify}`. */
async function bullConnection(load, redisUrl, clusterNodes) {
  if (!clusterNodes) {
    const { hostname, port } = new URL(redisUrl);
    return { connection: { host: hostname, port: Number(port) } };
  }
  const ioredis = await load('ioredis');
  const connection = new ioredis.Cluster(startupNodes(clusterNodes), {
    redisOptions: { maxRetriesPerRequest: null },
  });
  return { connection, prefix: '{rtnotify}' };
}

/** Connections the HTTP producer keeps open; more requests at once queue in the agent. */
const HTTP_SOCKETS = 32;

/** One POST /v1/notifications per notification, the job contract as the body. */
function httpEnqueue(baseUrl, apiKey) {
  const agent = new Agent({ keepAlive: true, maxSockets: HTTP_SOCKETS });
  const url = new URL('/v1/notifications', baseUrl);
  const post = (data) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify(data);
      const req = request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${apiKey}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 202 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  // Each request succeeds or fails alone: a failure counts its own notification only (the others of
  // the tick were sent, and are delivered).
  return async (items) => {
    const outcomes = await Promise.allSettled(items.map(post));
    const failures = outcomes.filter((outcome) => outcome.status === 'rejected');
    if (failures.length === 0) return;
    throw Object.assign(new Error(String(failures[0].reason?.message ?? failures[0].reason)), {
      failedCount: failures.length,
    });
  };
}

serveRpc({
  async init({ system, redisUrl, clusterNodes, queueName, mode, distRoot, httpUrl, apiKey }) {
    // On a cluster, as the service does: an ioredis Cluster and the hash-tagged prefix.
    queue = clusterNodes
      ? new Queue(queueName, {
          connection: new Cluster(startupNodes(clusterNodes), {
            redisOptions: { maxRetriesPerRequest: null },
          }),
          prefix: '{rtnotify}',
        })
      : new Queue(queueName, {
          connection: new Redis(redisUrl, { maxRetriesPerRequest: null }),
        });
    await queue.waitUntilReady();
    if (mode === 'service' && system === 'ours') {
      enqueue = await serviceEnqueue(distRoot, redisUrl, clusterNodes, queueName);
    } else if (mode === 'http' && system === 'ours') {
      enqueue = httpEnqueue(httpUrl, apiKey);
    } else
      enqueue = (items) =>
        queue.addBulk(items.map((data) => ({ name: 'notify', data, opts: JOB_OPTIONS })));
    return { pid: process.pid };
  },

  /**
   * Sends `rate`/s for `durationMs` to users u0…u<users-1> (uniformly at random), step id `step`.
   * Each tick enqueues, in one call, what the schedule says is due by then.
   */
  async run({ step, rate, durationMs, users }) {
    stalls.reset();
    const total = Math.round((rate * durationMs) / 1000);
    const interval = 1000 / rate;
    const start = nowMs() + 2;
    const inflight = new Set();
    const lags = [];
    let sent = 0;
    let failed = 0;
    let firstError;
    while (sent < total) {
      const now = nowMs();
      const due = Math.min(total, Math.floor((now - start) / interval) + 1);
      if (due > sent) {
        lags.push(now - (start + sent * interval));
        const items = [];
        for (; sent < due; sent++) {
          items.push({
            userId: `u${Math.floor(Math.random() * users)}`,
            type: 'bench.steady',
            payload: { s: step, q: sent, t: now },
          });
        }
        const pending = enqueue(items).then(
          () => inflight.delete(pending),
          (error) => {
            failed += error?.failedCount ?? items.length;
            firstError ??= String(error?.message ?? error);
            inflight.delete(pending);
          },
        );
        inflight.add(pending);
      }
      await sleep(1);
    }
    const scheduledMs = nowMs() - start;
    await Promise.race([Promise.all(inflight), sleep(60_000)]);
    return {
      sent: total - failed,
      failed,
      firstError,
      scheduledMs,
      enqueuedMs: nowMs() - start,
      lag: summarize(lags),
      stalls: stalls.read(),
    };
  },

  /** One notification to users u0…u<users-1>, as jobs of at most `chunk` users each (null: one job). */
  async fanout({ step, users, chunk }) {
    chunk ||= users;
    const ids = Array.from({ length: users }, (_, i) => `u${i}`);
    const t = nowMs();
    const items = [];
    for (let i = 0; i < users; i += chunk) {
      items.push({
        userIds: ids.slice(i, i + chunk),
        type: 'bench.fanout',
        payload: { s: step, q: 0, t },
      });
    }
    await enqueue(items);
    return { jobs: items.length, enqueueMs: nowMs() - t };
  },

  /**
   * Waits (at most `timeoutMs`) until no job is waiting or running; then, with `drain`, removes what
   * is still waiting, so that a saturated step does not spill into the next one.
   */
  async settle({ timeoutMs, drain }) {
    const deadline = Date.now() + timeoutMs;
    let pending = 0;
    let drained = 0;
    for (;;) {
      const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'paused');
      pending = Object.values(counts).reduce((a, b) => a + b, 0);
      if (pending === 0) break;
      if (Date.now() > deadline) {
        if (drain && drained === 0) {
          drained = pending;
          await queue.drain(true);
          continue;
        }
        if (Date.now() > deadline + 10_000) break;
      }
      await sleep(100);
    }
    return { pending, drained };
  },

  async counts() {
    return queue.getJobCounts('completed', 'failed');
  },
});
