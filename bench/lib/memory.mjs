/**
 * The memory scenario: Redis bytes per stored notification, measured black-box on the built service.
 * A private Redis, the service as a worker process with its default settings, a plain BullMQ
 * producer adding one `notify` job per notification (ours' default job options), `used_memory`
 * before and after; then the finished BullMQ job records are measured and removed, so that what is
 * left is the history's. Used by `npm run bench` (scenario `memory`) and `node bench/memory.mjs`.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startService } from '../../test/kit/service.mjs';
import { startRedis } from '../../test/kit/redis.mjs';
import { eventually, sleep } from '../../test/kit/timing.mjs';
import { JOB_OPTIONS } from './job-options.mjs';
import { round } from './stats.mjs';

export const MEMORY_DEFAULTS = { users: 100, perUser: 100, payloadBytes: 80 };

const SECRET = 'bench-only-secret-that-is-long-enough-for-hs256';
const QUEUE = 'notifications';
const KEY_PREFIX = 'notif'; // the service's default KEY_PREFIX
const TYPE = 'comment.created';
/** clientsCron shrinks a query buffer idle for 2 s. */
const SETTLE_MS = 3_000;
const TEXT = 'Ada Lovelace commented on your post: looks good to me, ship it on Monday. ';

/**
 * A payload whose JSON is exactly `bytes` bytes (ASCII, nothing to escape), different for each `n`:
 * a title, an actor and a link, as a comment notification would carry.
 */
export function payloadOf(bytes, n) {
  const fill = (length) => TEXT.repeat(Math.ceil(length / TEXT.length) + 1).slice(0, length);
  const payload = { title: '', actor: `u${n % 997}`, url: `/posts/${1000 + (n % 9000)}#c${n}` };
  const room = bytes - Buffer.byteLength(JSON.stringify(payload));
  if (room >= 0) return { ...payload, title: fill(room) };
  return { text: fill(Math.max(0, bytes - '{"text":""}'.length)) }; // tiny payloads
}

/**
 * `used_memory` and the part of it that the clients' query and output buffers hold (MEMORY STATS
 * `clients.normal`): a big pipeline leaves a large query buffer behind for a few seconds, which is
 * not the data's. Read after SETTLE_MS, once Redis' clientsCron has shrunk idle buffers.
 */
export async function redisMemory(redis) {
  await sleep(SETTLE_MS);
  const flat = await redis.memory('STATS');
  const stats = {};
  for (let i = 0; i < flat.length; i += 2) stats[flat[i]] = flat[i + 1];
  const used = Number(stats['total.allocated']);
  const clients = Number(stats['clients.normal']);
  const numbers = Object.entries(stats).filter(([, v]) => typeof v !== 'object');
  return { used, clients, withoutClients: used - clients, stats: Object.fromEntries(numbers) };
}

/** Every key matching `pattern`, by SCAN. */
async function keysOf(redis, pattern) {
  const keys = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** Sum of MEMORY USAGE (SAMPLES 0: every element counted) of the keys matching `pattern`. */
async function bytesOf(redis, pattern) {
  const keys = await keysOf(redis, pattern);
  let bytes = 0;
  for (let i = 0; i < keys.length; i += 1000) {
    const pipeline = redis.pipeline();
    for (const key of keys.slice(i, i + 1000)) pipeline.memory('USAGE', key, 'SAMPLES', 0);
    for (const [error, value] of await pipeline.exec()) if (!error) bytes += Number(value ?? 0);
  }
  return { keys: keys.length, bytes };
}

/** Elements of a key of any type the store uses. */
async function lengthOf(redis, key, type) {
  if (type === 'zset') return redis.zcard(key);
  if (type === 'hash') return redis.hlen(key);
  if (type === 'stream') return redis.xlen(key);
  if (type === 'set') return redis.scard(key);
  if (type === 'list') return redis.llen(key);
  return 1;
}

/** One user's keys: suffix, type, encoding, elements, MEMORY USAGE. */
async function userKeys(redis, userId) {
  const base = `${KEY_PREFIX}:{${userId}}:`;
  const rows = [];
  for (const key of (await keysOf(redis, `${base}*`)).sort()) {
    const type = await redis.type(key);
    rows.push({
      key: key.slice(base.length),
      type,
      encoding: await redis.object('ENCODING', key),
      entries: await lengthOf(redis, key, type),
      bytes: Number(await redis.memory('USAGE', key, 'SAMPLES', 0)),
    });
  }
  return rows;
}

/** Redis' compact-encoding thresholds, which decide each key's encoding (and so its size). */
async function thresholds(redis) {
  const out = {};
  for (const name of [
    'list-max-listpack-size',
    'zset-max-listpack-*',
    'hash-max-listpack-*',
    'set-max-intset-entries',
  ]) {
    const flat = await redis.config('GET', name);
    for (let i = 0; i < flat.length; i += 2) out[flat[i]] = Number(flat[i + 1]);
  }
  return out;
}

/**
 * Runs the scenario and returns its figures (bytes). Options: users, perUser, payloadBytes,
 * historyLimit (undefined: the service's default), main (the built service), log (progress).
 */
export async function measureMemory(options = {}) {
  const o = { ...MEMORY_DEFAULTS, ...options };
  const log = o.log ?? (() => undefined);
  const total = o.users * o.perUser;
  const redis = await startRedis();
  const client = new Redis(redis.url);
  const env = { ROLE: 'worker', NODE_ENV: 'production', JWT_SECRET: SECRET, REDIS_URL: redis.url };
  if (o.historyLimit !== undefined) env.HISTORY_LIMIT = String(o.historyLimit);
  let service;
  let queue;
  try {
    service = await startService(env, { main: o.main, name: 'memory/service' });
    // Connection options, not a client: the queue owns (and closes) its connection.
    queue = new Queue(QUEUE, { connection: { host: '127.0.0.1', port: redis.port } });
    await queue.waitUntilReady();
    // A first notification (another user) loads the store's scripts into Redis' script cache
    // before the baseline: that cache is the same for one notification or a million.
    await queue.add(
      'notify',
      { userId: 'warm-up', type: TYPE, payload: payloadOf(o.payloadBytes, 0) },
      JOB_OPTIONS,
    );
    await eventually(
      async () => (await queue.getJobCountByTypes('completed', 'failed')) === 1,
      60_000,
      'the warm-up notification stored',
    );
    await queue.clean(0, 10, 'completed');
    const events = `bull:${QUEUE}:events`;
    await client.xtrim(events, 'MAXLEN', 0);
    const before = await redisMemory(client);
    const jobsBefore = await bytesOf(client, `bull:${QUEUE}:*`);

    log(`storing ${total} notifications (${o.users} users × ${o.perUser}), one notify job each`);
    const started = Date.now();
    let n = 0;
    const jobs = [];
    for (let round_ = 0; round_ < o.perUser; round_++) {
      for (let u = 0; u < o.users; u++) {
        const data = { userId: `u${u}`, type: TYPE, payload: payloadOf(o.payloadBytes, n) };
        // A producer's key, kept as long as the notification (a job's own key is released).
        if (o.dedupeKeys) data.dedupeKey = `order-${String(n).padStart(8, '0')}`;
        n++;
        jobs.push({ name: 'notify', data, opts: JOB_OPTIONS });
        if (jobs.length === 1000) await queue.addBulk(jobs.splice(0));
      }
    }
    if (jobs.length > 0) await queue.addBulk(jobs.splice(0));

    /** The sum over every user of a number `read` queues (given the user's key base), one trip. */
    const sumOverUsers = async (read) => {
      const pipeline = client.pipeline();
      for (let u = 0; u < o.users; u++) read(pipeline, `${KEY_PREFIX}:{u${u}}:`);
      return (await pipeline.exec()).reduce((sum, [, value]) => sum + Number(value ?? 0), 0);
    };
    // Done when every user's sequence has reached perUser and the queue holds nothing unfinished.
    const stored = () => sumOverUsers((pipeline, base) => pipeline.hget(`${base}m`, 'seq'));
    await eventually(
      async () => {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
        if (counts.failed > 0) {
          const [failed] = await queue.getFailed(0, 0);
          throw new Error(`a notify job failed: ${failed?.failedReason}`);
        }
        return counts.waiting + counts.active + counts.delayed === 0 && (await stored()) === total;
      },
      Math.max(120_000, total * 20),
      `${total} notifications stored`,
    ).catch((error) => {
      throw new Error(
        `${error.message}\n--- service output (tail) ---\n${service.output().slice(-2000)}`,
      );
    });
    const storeSeconds = (Date.now() - started) / 1000;
    if (!o.dedupeKeys) {
      // The jobs' own keys are released about a second after each job completed: measured after.
      const keysLeft = () => sumOverUsers((pipeline, base) => pipeline.zcard(`${base}k`));
      await eventually(
        async () => (await keysLeft()) === 0,
        30_000,
        "the jobs' own dedupe keys to be released",
      );
    }
    const withJobs = await redisMemory(client);
    const jobsAfter = await bytesOf(client, `bull:${QUEUE}:*`);
    const completed = await queue.getJobCountByTypes('completed');

    const historyLimit = o.historyLimit ?? 1000;
    const perUserHeld = Math.min(o.perUser, historyLimit);
    const held = perUserHeld * o.users;
    const one = await userKeys(client, 'u0');
    const [sample] = await client.lrange(`${KEY_PREFIX}:{u0}:l`, -1, -1);
    const historyKeys = await bytesOf(client, `${KEY_PREFIX}:*`);

    // The finished job records go; what remains above the baseline is the history's.
    log(`removing ${completed} completed job records`);
    while ((await queue.clean(0, 10_000, 'completed')).length > 0);
    await client.xtrim(events, 'MAXLEN', 0);
    const after = await redisMemory(client);
    const jobsLeft = await bytesOf(client, `bull:${QUEUE}:*`);

    const per = (bytes, count) => round(bytes / count, 1);
    return {
      users: o.users,
      perUser: o.perUser,
      notifications: total,
      historyLimit,
      historyLimitIsDefault: o.historyLimit === undefined,
      held,
      payloadBytes: Buffer.byteLength(JSON.stringify(payloadOf(o.payloadBytes, 0))),
      dedupeKeys: Boolean(o.dedupeKeys),
      storedEntryBytes: sample ? Buffer.byteLength(sample) : null,
      storeSeconds: round(storeSeconds, 1),
      usedMemory: { before, withJobs, after },
      perNotification: {
        usedMemory: per(after.used - before.used, held),
        withoutClients: per(after.withoutClients - before.withoutClients, held),
        keys: per(historyKeys.bytes, held),
      },
      historyKeys: historyKeys.keys,
      jobs: {
        completedRecords: completed,
        // BullMQ keeps at most 10,000 completed jobs (removeOnComplete): per record kept.
        usedMemoryPerRecord: per(withJobs.withoutClients - after.withoutClients, completed),
        keysPerRecord: per(jobsAfter.bytes - jobsBefore.bytes, completed),
        // What the queue's keys still hold above the baseline once the records are gone.
        leftBytes: jobsLeft.bytes - jobsBefore.bytes,
      },
      oneUser: one.map((row) => ({ ...row, perNotification: per(row.bytes, perUserHeld) })),
      thresholds: await thresholds(client),
    };
  } finally {
    await queue?.close();
    await service?.stop('SIGTERM', 10_000);
    client.disconnect();
    await redis.stop();
  }
}
