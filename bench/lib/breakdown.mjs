/**
 * Where the CPU of one notification goes, by component: Redis's side from `INFO commandstats` and
 * the slow log (every command with its duration and arguments, logged for one step only), the
 * service's side from a V8 CPU profile (`node --cpu-prof`) cut to the same step.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { round } from './stats.mjs';

/** One Redis URL, or several (a cluster's nodes): always a list. */
const urlList = (urls) => [urls].flat();

/** `INFO commandstats` as { command: { calls, usec } }, summed over the nodes of `urls`. */
export async function commandStats(urls) {
  const stats = {};
  for (const url of urlList(urls)) {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      const text = await redis.info('commandstats');
      for (const line of text.split('\n')) {
        const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
        if (!m) continue;
        stats[m[1]] ??= { calls: 0, usec: 0 };
        stats[m[1]].calls += Number(m[2]);
        stats[m[1]].usec += Number(m[3]);
      }
    } finally {
      redis.disconnect();
    }
  }
  return stats;
}

/** usec per 1,000 notifications of each command between two `commandStats`, largest first. */
export function commandUsecPer1k(before, after, notifications) {
  const rows = {};
  for (const [command, b] of Object.entries(after)) {
    const a = before[command] ?? { calls: 0, usec: 0 };
    const usec = b.usec - a.usec;
    if (usec <= 0 && b.calls === a.calls) continue;
    rows[command] = {
      calls: round(((b.calls - a.calls) / notifications) * 1000),
      usec: round((usec / notifications) * 1000),
    };
  }
  return Object.fromEntries(Object.entries(rows).sort(([, x], [, y]) => y.usec - x.usec));
}

/**
 * From `commandUsecPer1k` rows: the Redis commands per unit (a script call, and each command it
 * runs, count one each) and the script calls among them (EVALSHA and EVAL).
 */
export function commandsPerUnit(per1k) {
  return {
    commands: round(Object.values(per1k).reduce((sum, c) => sum + c.calls, 0) / 1000),
    scriptCalls: round(((per1k.evalsha?.calls ?? 0) + (per1k.eval?.calls ?? 0)) / 1000),
  };
}

/**
 * Logs every command (with its duration) from now on, on every node of `urls`, in a log long enough
 * for one quick step; the function it resolves to stops logging and returns the entries of all nodes.
 */
export async function startSlowlog(urls, maxLen = 400_000) {
  const nodes = urlList(urls).map((url) => new Redis(url, { maxRetriesPerRequest: 1 }));
  for (const redis of nodes) {
    await redis.config('SET', 'slowlog-max-len', String(maxLen));
    await redis.slowlog('RESET');
    await redis.config('SET', 'slowlog-log-slower-than', '0');
  }
  return async () => {
    const entries = [];
    try {
      for (const redis of nodes) {
        await redis.config('SET', 'slowlog-log-slower-than', '-1');
        // One at a time: a long step logs more entries than a call's arguments may spread.
        for (const entry of await redis.slowlog('GET', -1)) entries.push(entry);
        await redis.slowlog('RESET');
      }
    } finally {
      // Also on an error: an open connection would keep the bench from exiting.
      for (const redis of nodes) redis.disconnect();
    }
    return entries;
  };
}

/** A key of BullMQ's: its default prefix, or the hash-tagged one the service uses on a cluster. */
const isBullKey = (key) => key.startsWith('bull:') || key.startsWith('{rtnotify}:');

/**
 * The slow log's commands by component: a script is BullMQ's when its first key is in the queue's
 * namespace (`bull:`, or `{rtnotify}:` on a cluster), ours when it is in the store's (`notif:`).
 */

export function slowlogComponents(entries, notifications) {
  const parts = {};
  const add = (part, usec) => {
    parts[part] ??= { calls: 0, usec: 0 };
    parts[part].calls++;
    parts[part].usec += usec;
  };
  for (const entry of entries) {
    const [, , usec, args, client] = entry;
    // A command a script called is logged too, by the script's client ("?:0"): its time is already
    // in the script's.
    if (client === '?:0') continue;
    const command = String(args[0]).toLowerCase();
    if (command === 'slowlog' || command === 'config' || command === 'info') continue;
    if (command === 'evalsha' || command === 'eval') {
      const firstKey = Number(args[2]) > 0 ? String(args[3]) : '';
      add(isBullKey(firstKey) ? 'bullmq scripts' : 'our store script', usec);
    } else {
      const key = String(args[1] ?? '');
      add(isBullKey(key) ? `bullmq ${command}` : command, usec);
    }
  }
  const per1k = (x) => round((x / notifications) * 1000);
  return Object.fromEntries(
    Object.entries(parts)
      .sort(([, a], [, b]) => b.usec - a.usec)
      .map(([part, { calls, usec }]) => [part, { calls: per1k(calls), usec: per1k(usec) }]),
  );
}

/** What a profile frame's script is: an owner (who asked), a library (what did it), or neither. */
function kindOf(callFrame) {
  const { url, functionName } = callFrame;
  if (functionName === '(garbage collector)') return { owner: 'gc' };
  if (functionName === '(idle)') return { owner: 'idle' };
  if (functionName === '(program)') return { owner: 'program (V8, native)' };
  if (!url) return {};
  if (url.includes('/node_modules/bullmq/')) return { owner: 'bullmq' };
  if (
    url.includes('/@rtnotify/') ||
    url.includes('/dist-bench/dist/') ||
    url.includes('/dist-base/dist/')
  )
    return { owner: 'ours' };
  if (url.includes('/node_modules/@nestjs/') || url.includes('/node_modules/express/'))
    return { owner: 'nest, express' };
  if (url.includes('/node_modules/ws/')) return { owner: 'ws (client sockets)' };
  if (url.includes('/node_modules/ioredis/') || url.includes('/node_modules/redis-parser/'))
    return { library: 'ioredis' };
  if (url.includes('/node_modules/'))
    return { library: url.split('/node_modules/').at(-1).split('/')[0] };
  return {};
}

/** Native frames that write to a socket (Redis's or a client's). */
const SOCKET_WRITES = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String']);
/**
 * Self time by component of the newest `.cpuprofile` in `dir`, cut to [fromUs, toUs] (the
 * profile's clock is the monotonic clock of `process.hrtime`), per 1,000 notifications, in CPU-ms.
 */
export function profileComponents(dir, fromUs, toUs, notifications) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return null;
  const profile = JSON.parse(readFileSync(join(dir, files.sort().at(-1)), 'utf8'));
  const parent = new Map();
  const byId = new Map();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  /**
   * A sample's component: the nearest frame up the stack that says who asked (BullMQ, ours, Nest,
   * ws), else the library that ran it (ioredis: replies parsed outside any caller), else node; a
   * socket write is counted apart under its owner.
   */
  const component = new Map();
  const resolve = (id) => {
    if (component.has(id)) return component.get(id);
    let owner;
    let library;
    for (let at = id; at !== undefined && owner === undefined; at = parent.get(at)) {
      const kind = kindOf(byId.get(at).callFrame);
      owner = kind.owner;
      library ??= kind.library;
    }
    const leaf = byId.get(id).callFrame.functionName;
    let part = owner ?? library ?? 'node';
    if (owner !== undefined && library !== undefined && !['gc', 'idle'].includes(owner))
      part = `${owner} via ${library}`;
    if (SOCKET_WRITES.has(leaf)) part += ': socket writes';
    component.set(id, part);
    return part;
  };
  const ms = {};
  const byFunction = new Map();
  let t = profile.startTime;
  let inWindow = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (t < fromUs || t > toUs) continue;
    const next = profile.timeDeltas[i + 1] ?? 0;
    const part = resolve(profile.samples[i]);
    ms[part] = (ms[part] ?? 0) + next / 1000;
    const frame = byId.get(profile.samples[i]).callFrame;
    const fn = `${frame.functionName || '(anonymous)'} ${frame.url.split('/node_modules/').at(-1)}:${frame.lineNumber}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + next / 1000);
    inWindow++;
  }
  const busy = Object.entries(ms).filter(([part]) => part !== 'idle');
  const total = busy.reduce((sum, [, v]) => sum + v, 0);
  return {
    samples: inWindow,
    totalPer1k: round((total / notifications) * 1000),
    parts: Object.fromEntries(
      busy
        .sort(([, a], [, b]) => b - a)
        .map(([part, v]) => [part, round((v / notifications) * 1000)]),
    ),
    topFunctions: [...byFunction]
      .filter(([fn]) => !fn.startsWith('(idle)'))
      .sort(([, a], [, b]) => b - a)
      .slice(0, 25)
      .map(([fn, v]) => [fn, round((v / notifications) * 1000)]),
  };
}
