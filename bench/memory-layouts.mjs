#!/usr/bin/env node
/**
 * `node bench/memory-layouts.mjs`: an exploration tool for issue 19, not a product test. Fills a
 * private Redis directly (no service) with the same notifications in candidate layouts of a user's
 * data and prints Redis bytes per held notification for each, so that a layout can be chosen on
 * figures before the store changes. `today` runs the store's own append script (from the built
 * package); every other layout is written with plain commands, trimmed to the history limit on
 * each append as the store would. Every notification is unread and unseen (the largest state).
 * Then it runs the reads of one user (resume, a list page, an unread page, counts) where a layout
 * has them (today: the store's own scripts; two stream layouts: sketches in lib/layout-reads.mjs) and
 * counts the Redis commands each ran inside its script; for the others the read cost is the
 * design's, not measured. See README.md.
 */
import { Redis } from 'ioredis';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { stopAll } from '../test/kit/processes.mjs';
import { startRedis } from '../test/kit/redis.mjs';
import { defineReadScripts, readCosts, sameAnswers } from './lib/layout-reads.mjs';
import { payloadOf, redisMemory } from './lib/memory.mjs';
import { printTable } from './lib/report.mjs';
import { round } from './lib/stats.mjs';

const SCRIPTS = new URL('../libs/notifications/dist/storage/lua-scripts.js', import.meta.url);
const TYPE = 'comment.created';
/** Members per chunk key: within Redis' default listpack (zset) and intset limits. */
const ZSET_CHUNK = 128;
const INTSET_CHUNK = 512;

const USAGE = `usage: node bench/memory-layouts.mjs [options]
  --users N           users (100)
  --per-user N        notifications appended per user (100)
  --payload-bytes N   bytes of each payload's JSON (80)
  --history-limit N   notifications kept per user (1000)
  --layouts a,b       which layouts (all)`;

/** The parts of a user's data each layout is made of; a layout picks one of each. */
const HISTORY = {
  /** Today: ZSET seq → `{"createdAt":…,"id":…,"type":…,"payload":…}`. */
  'zset-json': {
    append(p, k, n, limit) {
      p.zadd(k.h, n.seq, todayBody(n));
      if (n.seq > limit) p.zremrangebyscore(k.h, '-inf', n.seq - limit);
    },
  },
  /** ZSET seq → `{"c":<ms>,"t":…,"p":…}`: short names, createdAt as ms, no id (epoch-seq). */
  'zset-short': {
    append(p, k, n, limit) {
      p.zadd(k.h, n.seq, shortBody(n));
      if (n.seq > limit) p.zremrangebyscore(k.h, '-inf', n.seq - limit);
    },
  },
  /** ZSETs of ZSET_CHUNK seqs each (key h:<seq div chunk>), short bodies. */
  'zset-chunks': {
    append(p, k, n, limit) {
      p.zadd(`${k.h}:${Math.floor(n.seq / ZSET_CHUNK)}`, n.seq, shortBody(n));
      const gone = n.seq - limit;
      if (gone > 0) p.zremrangebyscore(`${k.h}:${Math.floor(gone / ZSET_CHUNK)}`, gone, gone);
    },
  },
  /** A stream, entry id `<seq>-0`, one field b = today's JSON body; trimmed by MINID. */
  'stream-json': {
    append(p, k, n, limit) {
      p.xadd(k.h, ...minId(n, limit), `${n.seq}-0`, 'b', todayBody(n));
    },
  },
  /**
   * A stream, entry id `<seq>-0`, fields c (createdAt ms, an integer in the listpack), t, p (and
   * g, the gapless ring position, when a bitmap holds the state). Field names repeat the node's
   * master entry, so a listpack stores them once per node (up to 100 entries).
   */
  'stream-fields': {
    append(p, k, n, limit, layout) {
      const ring = layout.state === 'bitmap' ? ['g', n.pos] : [];
      p.xadd(
        k.h,
        ...minId(n, limit),
        `${n.seq}-0`,
        'c',
        n.createdAtMs,
        't',
        n.type,
        'p',
        n.payloadJson,
        ...ring,
      );
    },
  },
};

/** Unread and unseen (all notifications are both, as right after they were stored). */
const STATE = {
  /** Today: ZSETs u and n, seq → id. */
  'zset-ids': {
    append(p, k, n, limit) {
      p.zadd(k.u, n.seq, n.id);
      p.zadd(k.n, n.seq, n.id);
      if (n.seq > limit) {
        p.zremrangebyscore(k.u, '-inf', n.seq - limit);
        p.zremrangebyscore(k.n, '-inf', n.seq - limit);
      }
    },
  },
  /**
   * Bitmaps u and n over a ring of ceil(limit / 8) bytes, indexed by a gapless position (m.pos),
   * not by seq: on a cluster seq may skip 1,000,000. A trimmed position's bits are cleared.
   */
  bitmap: {
    append(p, k, n, limit) {
      const ring = Math.ceil(limit / 8) * 8;
      p.setbit(k.u, n.pos % ring, 1);
      p.setbit(k.n, n.pos % ring, 1);
      const gone = n.pos - limit;
      if (gone > 0 && gone % ring !== n.pos % ring) {
        p.setbit(k.u, gone % ring, 0);
        p.setbit(k.n, gone % ring, 0);
      }
    },
  },
  /** SETs of seqs, INTSET_CHUNK seqs per key (u:<seq div chunk>): intset encoding. */
  intsets: {
    append(p, k, n, limit) {
      for (const key of [k.u, k.n]) {
        p.sadd(`${key}:${Math.floor(n.seq / INTSET_CHUNK)}`, n.seq);
        const gone = n.seq - limit;
        if (gone > 0) p.srem(`${key}:${Math.floor(gone / INTSET_CHUNK)}`, gone);
      }
    },
  },
};

/** Dedupe of the job id (no producer key in this scenario). */
const DEDUPE = {
  /** Today: HASH d dedupe key → id and ZSET dz seq → dedupe key, for the whole history. */
  'hash-zset': {
    append(p, k, n, limit) {
      p.hset(k.d, n.dedupeKey, n.id);
      p.zadd(k.dz, n.seq, n.dedupeKey);
      if (n.seq > limit) {
        p.hdel(k.d, n.goneDedupeKey);
        p.zremrangebyscore(k.dz, '-inf', n.seq - limit);
      }
    },
  },
  /** Job-id entries expire once the job can no longer be retried: none left in the steady state. */
  expired: { append() {} },
};

const LAYOUTS = {
  today: {
    script: true,
    what: "the store's own append script: h ZSET seq→JSON, u/n ZSET seq→id, d HASH + dz ZSET",
    reads: { resume: '6 + 3k', list: '8 + 3k; unread: 8 + 4k', count: '3' },
  },
  'today-by-commands': {
    history: 'zset-json',
    state: 'zset-ids',
    dedupe: 'hash-zset',
    what: 'today written with plain commands (checks that the replica matches the script)',
    reads: { resume: '6 + 3k', list: '8 + 3k; unread: 8 + 4k', count: '3' },
  },
  'today-no-job-dedupe': {
    history: 'zset-json',
    state: 'zset-ids',
    dedupe: 'expired',
    what: 'today without the job-id dedupe entries (d, dz)',
    reads: { resume: '6 + 3k', list: '8 + 3k; unread: 8 + 4k', count: '3' },
  },
  'short-body': {
    history: 'zset-short',
    state: 'zset-ids',
    dedupe: 'expired',
    what: 'h ZSET seq→{"c":ms,"t","p"} (no id, short names), u/n as today, no job dedupe',
    reads: { resume: '6 + 3k', list: '8 + 3k; unread: 8 + 4k', count: '3' },
  },
  'stream-json': {
    history: 'stream-json',
    state: 'zset-ids',
    dedupe: 'expired',
    what: "h STREAM <seq>-0 b=today's JSON, u/n as today, no job dedupe",
    reads: { resume: '6 + 3k (XRANGE)', list: '8 + 3k; unread: 8 + 4k', count: '3' },
  },
  'stream-fields': {
    history: 'stream-fields',
    state: 'zset-ids',
    dedupe: 'expired',
    what: 'h STREAM <seq>-0 c=ms t p, u/n as today, no job dedupe',
    reads: { resume: '6 + 3k (XRANGE)', list: '8 + 3k; unread: 8 + 4k', count: '3' },
  },
  'stream-bitmap': {
    history: 'stream-fields',
    state: 'bitmap',
    dedupe: 'expired',
    what: 'h STREAM <seq>-0 c t p g(ring pos), u/n ring BITMAPs, no job dedupe',
    reads: {
      resume: '7 whatever k (HMGET, GET ×3, XRANGE, BITCOUNT ×2)',
      list: '7; unread: 7 + (k + 1) XRANGE',
      count: '2 (BITCOUNT ×2)',
    },
  },
  'stream-intsets': {
    history: 'stream-fields',
    state: 'intsets',
    dedupe: 'expired',
    what: 'h STREAM <seq>-0 c t p, u/n SETs of seqs (intset, 512 per key), no job dedupe',
    reads: {
      resume: '5 + 2k (SISMEMBER)',
      list: '5 + 2k; unread: + SMEMBERS per chunk + k XRANGE',
      count: '1 + 2 × chunks (SCARD; ≤ 3 chunks)',
    },
  },
  'stream-intsets-1k-nodes': {
    history: 'stream-fields',
    state: 'intsets',
    dedupe: 'expired',
    what: 'as stream-intsets, with CONFIG SET stream-node-max-bytes 1024 (an operator setting)',
    config: { 'stream-node-max-bytes': '1024' },
    reads: {
      resume: '5 + 2k (SISMEMBER)',
      list: '5 + 2k; unread: + SMEMBERS per chunk + k XRANGE',
      count: '1 + 2 × chunks (SCARD; ≤ 3 chunks)',
    },
  },
  'zset-chunks': {
    history: 'zset-chunks',
    state: 'bitmap',
    dedupe: 'expired',
    what: 'h ZSETs of 128 short bodies (h:<seq div 128>), ring BITMAPs, no job dedupe',
    config: {},
    reads: {
      resume: '5 + chunks (ZRANGEBYSCORE per chunk, ≤ 9)',
      list: '5 + 1–2 chunks',
      count: '2 (BITCOUNT ×2)',
    },
  },
  'zset-chunks-listpack': {
    history: 'zset-chunks',
    state: 'bitmap',
    dedupe: 'expired',
    what: 'as zset-chunks, with CONFIG SET zset-max-listpack-value 256 (an operator setting)',
    config: { 'zset-max-listpack-value': '256' },
    reads: {
      resume: '5 + chunks (ZRANGEBYSCORE per chunk, ≤ 9)',
      list: '5 + 1–2 chunks',
      count: '2 (BITCOUNT ×2)',
    },
  },
};

const todayBody = (n) =>
  `{"createdAt":"${n.createdAt}","id":"${n.id}","type":"${n.type}","payload":${n.payloadJson}}`;
const shortBody = (n) => `{"c":${n.createdAtMs},"t":"${n.type}","p":${n.payloadJson}}`;
/** XADD's exact MINID trim: keeps the newest `limit` seqs. */
const minId = (n, limit) => (n.seq > limit ? ['MINID', `${n.seq - limit + 1}-0`] : []);

function keysOf(userId) {
  const base = `notif:{${userId}}:`;
  const names = ['h', 'u', 'm', 'd', 'dz', 'n', 'a', 'f', 'c', 'e', 'cz'];
  return {
    base,
    ...Object.fromEntries(names.map((s) => [s, base + s])),
    all: names.map((s) => base + s),
  };
}

/** Appends every notification in `layout`: user by user, round robin, as the bench's producer does. */
async function fill(redis, layout, o) {
  const epochs = Array.from({ length: o.users }, (_, u) => `e${String(u).padStart(9, '0')}`);
  const t0 = Date.now();
  let jobId = 0;
  const dedupeKeys = new Map();
  for (let seq = 1; seq <= o.perUser; seq++) {
    const p = redis.pipeline();
    for (let u = 0; u < o.users; u++) {
      jobId++;
      const userId = `u${u}`;
      const k = keysOf(userId);
      const createdAtMs = t0 + jobId;
      const n = {
        seq,
        pos: seq,
        id: `${epochs[u]}-${seq}`,
        type: TYPE,
        payloadJson: JSON.stringify(payloadOf(o.payloadBytes, jobId)),
        createdAtMs,
        createdAt: new Date(createdAtMs).toISOString(),
        // What the worker uses without a producer key: j:<job id>:<job timestamp>.
        dedupeKey: `j:${jobId}:${createdAtMs}`,
      };
      dedupeKeys.set(`${u}:${seq}`, n.dedupeKey);
      n.goneDedupeKey = dedupeKeys.get(`${u}:${seq - o.historyLimit}`);
      dedupeKeys.delete(`${u}:${seq - o.historyLimit}`);
      if (layout.script) {
        p.notifAppend(
          ...k.all,
          `${k.base}ch`,
          createdAtMs,
          epochs[u],
          0,
          n.type,
          n.payloadJson,
          n.dedupeKey,
          n.createdAt,
          o.historyLimit,
          '',
          createdAtMs,
          '',
          '',
          '',
          '',
          '',
        );
        continue;
      }
      p.hset(k.m, 'epoch', epochs[u], 'seq', seq, 'v', seq, 't', Math.max(0, seq - o.historyLimit));
      if (layout.state === 'bitmap') p.hset(k.m, 'pos', seq);
      HISTORY[layout.history].append(p, k, n, o.historyLimit, layout);
      STATE[layout.state].append(p, k, n, o.historyLimit);
      DEDUPE[layout.dedupe].append(p, k, n, o.historyLimit);
    }
    for (const [error] of await p.exec()) if (error) throw error;
  }
}

/** MEMORY USAGE (SAMPLES 0) of one user's keys, grouped by the key's role (its first suffix). */
async function oneUser(redis, userId) {
  const base = `notif:{${userId}}:`;
  const groups = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${base}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const role = key.slice(base.length).split(':')[0];
      const encoding = await redis.object('ENCODING', key);
      const g = (groups[role] ??= { bytes: 0, keys: 0, encodings: new Set() });
      g.bytes += Number(await redis.memory('USAGE', key, 'SAMPLES', 0));
      g.keys++;
      g.encodings.add(encoding);
    }
  } while (cursor !== '0');
  return groups;
}

async function measure(redis, name, o) {
  const layout = LAYOUTS[name];
  await redis.flushall('SYNC');
  await redis.config('RESETSTAT');
  for (const [key, value] of Object.entries({ ...o.defaults, ...layout.config }))
    await redis.config('SET', key, value);
  const before = await redisMemory(redis);
  await fill(redis, layout, o);
  const after = await redisMemory(redis);
  const held = o.users * Math.min(o.perUser, o.historyLimit);
  const heldPerUser = Math.min(o.perUser, o.historyLimit);
  const groups = await oneUser(redis, 'u0');
  const parts = Object.entries(groups)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([role, g]) =>
        `${role} ${round(g.bytes / heldPerUser, 1)} (${[...g.encodings].join('/')}${g.keys > 1 ? `, ${g.keys} keys` : ''})`,
    );
  const perUser = Object.values(groups).reduce((sum, g) => sum + g.bytes, 0);
  const reads = await readCosts(redis, name, keysOf('u0'), { ...o, intsetChunk: INTSET_CHUNK });
  return {
    measuredReads: reads,
    name,
    what: layout.what,
    perNotification: round((after.withoutClients - before.withoutClients) / held, 1),
    rawPerNotification: round((after.used - before.used) / held, 1),
    oneUserPerNotification: round(perUser / heldPerUser, 1),
    parts: parts.join(', '),
    reads: layout.reads,
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '100' },
      'per-user': { type: 'string', default: '100' },
      'payload-bytes': { type: 'string', default: '80' },
      'history-limit': { type: 'string', default: '1000' },
      layouts: { type: 'string', default: Object.keys(LAYOUTS).join(',') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return console.log(USAGE);
  const o = {
    users: Number(values.users),
    perUser: Number(values['per-user']),
    payloadBytes: Number(values['payload-bytes']),
    historyLimit: Number(values['history-limit']),
  };
  if (!Object.values(o).every((n) => Number.isInteger(n) && n > 0))
    throw new Error(`numbers must be whole and ≥ 1\n${USAGE}`);
  const names = values.layouts.split(',').filter(Boolean);
  const unknown = names.filter((n) => !LAYOUTS[n]);
  if (unknown.length > 0) throw new Error(`unknown layouts: ${unknown.join(', ')}\n${USAGE}`);
  if (!existsSync(SCRIPTS))
    throw new Error('libs/notifications/dist is missing: run "npm run build" first');
  const { APPEND_SCRIPT, REPLAY_SCRIPT, LIST_SCRIPT, COUNTS_SCRIPT } = await import(SCRIPTS.href);

  const server = await startRedis();
  const redis = new Redis(server.url);
  try {
    redis.defineCommand('notifAppend', { numberOfKeys: 11, lua: APPEND_SCRIPT });
    redis.defineCommand('notifReplay', { numberOfKeys: 11, lua: REPLAY_SCRIPT });
    redis.defineCommand('notifList', { numberOfKeys: 11, lua: LIST_SCRIPT });
    redis.defineCommand('notifCounts', { numberOfKeys: 11, lua: COUNTS_SCRIPT });
    defineReadScripts(redis);
    o.page = Math.min(20, Math.min(o.perUser, o.historyLimit) - 1);
    // Every setting a layout changes, as the server started: restored before each layout.
    o.defaults = {};
    for (const name of ['zset-max-listpack-value', 'stream-node-max-bytes'])
      o.defaults[name] = (await redis.config('GET', name))[1];
    const payload = Buffer.byteLength(JSON.stringify(payloadOf(o.payloadBytes, 0)));
    const rows = [];
    for (const name of names) {
      console.error(`[memory-layouts] ${name}`);
      rows.push(await measure(redis, name, o));
    }
    const held = Math.min(o.perUser, o.historyLimit);
    printTable(
      `LAYOUTS — ${o.users} users × ${o.perUser} notifications (${held} held each, HISTORY_LIMIT ${o.historyLimit}), ` +
        `payload ${payload} B; bytes per held notification (target ≤ 2× payload = ${2 * payload})`,
      [
        'layout',
        'used_memory Δ',
        'less client buffers',
        '× payload',
        'one user (MEMORY USAGE)',
        '≤ 2×',
      ],
      rows.map((r) => [
        r.name,
        r.rawPerNotification,
        r.perNotification,
        `${round(r.perNotification / payload, 2)}×`,
        r.oneUserPerNotification,
        r.perNotification <= 2 * payload ? 'yes' : 'no',
      ]),
    );
    printTable(
      'LAYOUTS — one user (u0): bytes per held notification by key role (encoding)',
      ['layout', 'keys'],
      rows.map((r) => [r.name, r.parts]),
    );
    const reference = rows.find((r) => r.name === 'today')?.measuredReads;
    const measured = (r, op) => (r.measuredReads ? String(r.measuredReads[op].commands) : '—');
    printTable(
      `LAYOUTS — reads of one user (u0): Redis commands inside the read's one script, measured ` +
        `(INFO commandstats) where the layout has a read script: resume after the ${o.page} newest, ` +
        `inbox page of ${o.page}, unread page of ${o.page}, counts; "same" = the same seqs, flags and ` +
        `counts as today's scripts; design = by design (k items), not measured`,
      [
        'layout',
        'resume',
        'inbox page',
        'unread page',
        'counts',
        'same',
        'design: resume',
        'design: list page',
        'design: counts',
      ],
      rows.map((r) => [
        r.name,
        measured(r, 'resume'),
        measured(r, 'inbox'),
        measured(r, 'unread'),
        measured(r, 'counts'),
        r.measuredReads && reference
          ? sameAnswers(r.measuredReads, reference)
            ? 'yes'
            : 'NO'
          : '—',
        r.reads.resume,
        r.reads.list,
        r.reads.count,
      ]),
    );
    printTable(
      'LAYOUTS — what each is',
      ['layout', 'what'],
      rows.map((r) => [r.name, r.what]),
    );
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

try {
  await main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await stopAll();
}
