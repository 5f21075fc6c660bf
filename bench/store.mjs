#!/usr/bin/env node
/**
 * `node bench/store.mjs`: what the store's append costs per notification, without BullMQ, sockets or
 * the service: the built `RedisNotificationStore` (libs/notifications/dist) appends N notifications,
 * one user each, `--per-call` at a time (as the worker's group commit hands it the jobs in flight
 * together), to users u0…u<users-1> on a private `redis-server`. Reported per notification: Redis's
 * time in the append script (`INFO commandstats`, usec of EVALSHA), of which the commands the script
 * called, and this process's CPU (building the calls, ioredis, reading the replies). Redis's own
 * figures do not count what other processes on the machine do meanwhile (only while it runs a
 * command), so this is the steadier measure of a change to the script than a whole bench run.
 *
 * With `--callgrind`, Redis runs under valgrind's callgrind instead, and what is reported is the
 * instructions Redis executed per notification: those of 1,000 + N appends less those of 1,000, on
 * a new server each, so that its start and end cancel out. Instructions do not depend on what else
 * the machine does: the same build gives the same count to a fraction of a percent, so a change of
 * a few percent shows. Needs valgrind (`apt-get install -y valgrind`); use a smaller N (3000).
 *
 * With `--fanout`, each call is one notification to `--per-call` users (a fan-out's group, whose
 * users share the notification's fields) instead of as many notifications of one user each.
 *
 *   npm run build && node bench/store.mjs [--notifications 20000] [--per-call 11] [--users 500]
 *     [--repeat 3] [--baseline ../other-checkout] [--callgrind] [--fanout]
 */
import { Redis } from 'ioredis';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';
import { stopAll } from '../test/kit/processes.mjs';
import { startRedis } from '../test/kit/redis.mjs';
import { commandStats } from './lib/breakdown.mjs';
import { wholeNumberOption } from './lib/options.mjs';
import { round } from './lib/stats.mjs';

const { values } = parseArgs({
  options: {
    notifications: { type: 'string', default: '20000' },
    'per-call': { type: 'string', default: '11' },
    users: { type: 'string', default: '500' },
    repeat: { type: 'string', default: '3' },
    baseline: { type: 'string' },
    callgrind: { type: 'boolean' },
    fanout: { type: 'boolean' },
  },
});
const total = wholeNumberOption(values, 'notifications');
const perCall = wholeNumberOption(values, 'per-call');
const users = wholeNumberOption(values, 'users');
const repeat = wholeNumberOption(values, 'repeat');

/** The built store of the checkout at `root` (this one unless --baseline). */
async function loadStore(root) {
  const built = resolve(root, 'libs/notifications/dist');
  if (!existsSync(resolve(built, 'storage/redis-notification.store.js'))) {
    console.error(`no built store in ${built}: run npm run build in ${resolve(root)} first`);
    process.exit(2);
  }
  const dist = (path) => pathToFileURL(resolve(built, path)).href;
  const { RedisNotificationStore } = await import(dist('storage/redis-notification.store.js'));
  const { NotificationsSettings } = await import(dist('notifications.settings.js'));
  return (redis) =>
    new RedisNotificationStore(
      { client: redis },
      new NotificationsSettings({ keyPrefix: 'notif', historyLimit: 1000 }),
    );
}

/**
 * Appends `count` notifications, `perCall` at a time: each one a group of its own (the jobs in flight
 * together), or with `--fanout` one notification to `perCall` users (a fan-out job's group).
 */
async function appendAll(store, count, tag) {
  for (let i = 0; i < count; i += perCall) {
    const requests = [];
    for (let j = i; j < Math.min(count, i + perCall); j++) {
      const n = values.fanout ? i : j;
      requests.push({
        userId: `u${j % users}`,
        type: 'bench.store',
        payloadJson: JSON.stringify({ q: n }),
        dedupeKey: `j:${tag}:${n}`,
        enqueuedAt: Date.now(),
      });
    }
    const groups = values.fanout ? [requests] : requests.map((request) => [request]);
    const results = await store.appendGroups(groups);
    const failed = results.find((result) => result instanceof Error);
    if (failed) throw failed;
  }
}

/** Redis's instructions (callgrind's total) for `count` appends on a new server. */
async function instructionsFor(createStore, count, run) {
  const dir = mkdtempSync(join(tmpdir(), 'store-callgrind-'));
  const out = join(dir, 'callgrind.out');
  const wrapper = ['valgrind', '--tool=callgrind', `--callgrind-out-file=${out}`];
  const server = await startRedis({ wrapper });
  const redis = new Redis(server.url);
  try {
    await appendAll(createStore(redis), count, `cg${run}`);
  } finally {
    redis.disconnect();
    await server.stop();
  }
  const totals = readFileSync(out, 'utf8').match(/^(?:summary|totals): (\d+)/m);
  rmSync(dir, { recursive: true, force: true });
  if (!totals) throw new Error('callgrind wrote no total');
  return Number(totals[1]);
}

/** Redis's instructions per notification: 1,000 + `total` appends less 1,000. */
async function instructionsPerNotification(createStore, run) {
  const base = await instructionsFor(createStore, 1000, run);
  const more = await instructionsFor(createStore, 1000 + total, run);
  return Math.round((more - base) / total);
}

/** One measured run of `name`'s store on an empty Redis. */
async function measure(name, createStore, redis, url, run) {
  await redis.flushall();
  const store = createStore(redis);
  await appendAll(store, Math.min(2000, total), `warm${run}`); // scripts loaded, code warm
  await redis.config('RESETSTAT');
  const cpu = process.cpuUsage();
  await appendAll(store, total, `run${run}`);
  const used = process.cpuUsage(cpu);
  const stats = await commandStats(url);
  const called = Object.entries(stats)
    .filter(([command]) => !/^(evalsha|eval|config\|resetstat|info)$/.test(command))
    .reduce((sum, [, s]) => sum + s.usec, 0);
  const per = (usec) => round(usec / total);
  return {
    system: name,
    scriptUsec: per(stats.evalsha?.usec ?? 0),
    calledUsec: per(called),
    callsPerNotification: round((stats.evalsha?.calls ?? 0) / total),
    clientCpuUsec: per(used.user + used.system),
  };
}

const systems = [['store', await loadStore(fileURLToPath(new URL('..', import.meta.url)))]];
if (values.baseline) systems.push(['store-base', await loadStore(values.baseline)]);

if (values.callgrind) {
  if (spawnSync('valgrind', ['--version']).error) {
    console.error('--callgrind needs valgrind on the PATH: apt-get install -y valgrind');
    process.exit(2);
  }
  try {
    for (let run = 0; run < repeat; run++) {
      for (const [name, createStore] of systems) {
        const instructions = await instructionsPerNotification(createStore, run);
        const shape = values.fanout ? `fan-outs to ${perCall} users` : `${perCall} per call`;
        console.log(
          `${name}: Redis ${instructions} instructions per notification (callgrind; ${shape})`,
        );
      }
    }
  } finally {
    await stopAll();
  }
  process.exit(0);
}

const server = await startRedis();
const redis = new Redis(server.url);
try {
  const rows = [];
  for (let run = 0; run < repeat; run++) {
    for (const [name, createStore] of systems) {
      const row = await measure(name, createStore, redis, server.url, run);
      rows.push(row);
      console.error(
        `${row.system}: Redis ${row.scriptUsec} us per notification in the append script ` +
          `(${row.calledUsec} of it the commands it called; ${row.callsPerNotification} ` +
          `EVALSHA per notification), this process ${row.clientCpuUsec} us CPU`,
      );
    }
  }
  console.log(JSON.stringify({ notifications: total, perCall, users, rows }));
} finally {
  redis.disconnect();
  await server.stop();
  await stopAll();
}
