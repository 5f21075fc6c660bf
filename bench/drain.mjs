#!/usr/bin/env node
/**
 * `node bench/drain.mjs`: the worker's cost per notification on the one-job-per-notification path,
 * measured so that other work on the machine disturbs it little. For each system: N `notify` jobs
 * (one notification each, to users u0…u<users-1>) are added to a paused queue; then the queue is
 * resumed and the system drains it as fast as it can. Reported: CPU-ms per 1,000 notifications of
 * the system and of its Redis (from /proc, over the drain only), and the drain rate (jobs/s, wall
 * time: that one moves with the machine's load, the CPU much less). No socket is connected: this is
 * the worker and the store (ours) against the worker alone (the peers), not the delivery. Also
 * printed: Redis's commands per 1,000 jobs over the drain (`INFO commandstats`: calls and usec,
 * the commands a script calls counted apart from the script), the eight costliest.
 *
 * With `--slowlog`, Redis logs every command of the drain (its slow log at threshold 0, which
 * slows Redis down a little) and the scripts' time is split by whose they are: BullMQ's or the
 * store's.
 *
 * With `--gc`, the system runs with `--trace-gc-nvp`, and what its garbage collector did during
 * the drain is printed per 1,000 jobs: KiB allocated, scavenges (their pauses in ms, and KiB they
 * kept in the young generation and promoted to the old one) and mark-compacts. The bytes allocated
 * hardly move with the machine's load, so they show a change to the worker's allocations.
 *
 *   npm run build && node bench/drain.mjs --jobs 20000 [--baseline ../main] [--systems ours,naive]
 *     [--concurrency N] [--repeat 3] [--slowlog] [--gc]
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { freePort, startProcess, stopAll } from '../test/kit/processes.mjs';
import { startRedis } from '../test/kit/redis.mjs';
import { sleep } from '../test/kit/timing.mjs';
import {
  commandStats,
  commandUsecPer1k,
  profileComponents,
  slowlogComponents,
  startSlowlog,
} from './lib/breakdown.mjs';
import { cpuMs } from './lib/cpu.mjs';
import { gcLines, gcPer } from './lib/gc.mjs';
import { JOB_OPTIONS } from './lib/job-options.mjs';
import { wholeNumberOption } from './lib/options.mjs';
import { round } from './lib/stats.mjs';

const SECRET = 'bench-only-secret-that-is-long-enough-for-hs256';
const OURS_ENV = { ROLE: 'all', NODE_ENV: 'production', JWT_SECRET: SECRET, ALLOWED_ORIGINS: '*' };
const SYSTEMS = {
  ours: { script: 'dist/src/main.js', env: OURS_ENV },
  'ours-base': { script: null, env: OURS_ENV },
  naive: { script: 'bench/peers/naive.mjs', env: { NODE_ENV: 'production' } },
};

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    users: { type: 'string', default: '500' },
    systems: { type: 'string', default: 'ours,naive' },
    baseline: { type: 'string' },
    concurrency: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    prof: { type: 'string' },
    slowlog: { type: 'boolean' },
    gc: { type: 'boolean' },
  },
});
const jobs = wholeNumberOption(values, 'jobs');
const users = wholeNumberOption(values, 'users');
const repeat = wholeNumberOption(values, 'repeat');
const concurrency = wholeNumberOption(values, 'concurrency');
const systems = values.systems.split(',');
if (values.baseline) {
  SYSTEMS['ours-base'].script = `${values.baseline}/dist/src/main.js`;
  if (!systems.includes('ours-base')) systems.push('ours-base');
}

const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

let window;

async function drainOnce(name) {
  const def = SYSTEMS[name];
  const redis = await startRedis();
  const port = await freePort();
  const env = { ...def.env, PORT: String(port), REDIS_URL: redis.url };
  if (concurrency) env.WORKER_CONCURRENCY = String(concurrency);
  const nodeArgs = values.prof ? ['--cpu-prof', '--cpu-prof-dir', `${values.prof}/${name}`] : [];
  if (values.gc) nodeArgs.push('--trace-gc-nvp');
  const startedAt = Date.now();
  const service = startProcess(name, process.execPath, [...nodeArgs, def.script], {
    env,
    echo: Boolean(process.env.BENCH_VERBOSE),
  });
  // All of it (the kept output is only its end); complete once the process has exited.
  let output = '';
  service.process.stdout.on('data', (chunk) => (output += chunk));
  let row;
  let drainMs;
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  connection.on('error', () => {}); // Redis is stopped before the last reconnection attempt
  const queue = new Queue('notifications', { connection });
  try {
    await service.waitFor('listening on', 60_000);
    await queue.pause();
    for (let i = 0; i < jobs; i += 1000) {
      const batch = [];
      for (let j = i; j < Math.min(jobs, i + 1000); j++)
        batch.push({
          name: 'notify',
          data: { userId: `u${j % users}`, type: 'bench.drain', payload: { q: j } },
          opts: JOB_OPTIONS,
        });
      await queue.addBulk(batch);
    }
    await sleep(1000); // the service settles (JIT of the start-up, timers)
    const load = loadAverage();
    const c0 = { svc: cpuMs(service.pid), redis: cpuMs(redis.pid), at: Date.now() };
    const stats0 = await commandStats(redis.url);
    const stopSlowlog = values.slowlog ? await startSlowlog(redis.url, 50 * jobs) : null;
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    await queue.resume();
    for (;;) {
      const { wait, active, paused, delayed } = await queue.getJobCounts(
        'wait',
        'active',
        'paused',
        'delayed',
      );
      if (wait + active + paused + delayed === 0) break;
      await sleep(20);
    }
    const c1 = { svc: cpuMs(service.pid), redis: cpuMs(redis.pid), at: Date.now() };
    window = { fromUs, toUs: Number(process.hrtime.bigint() / 1000n) };
    const commands = commandUsecPer1k(stats0, await commandStats(redis.url), jobs);
    const scripts = stopSlowlog && slowlogComponents(await stopSlowlog(), jobs);
    const per1k = (ms) => round((ms / jobs) * 1000);
    drainMs = [c0.at - startedAt, c1.at - startedAt];
    row = {
      system: name,
      svc: per1k(c1.svc - c0.svc),
      redis: per1k(c1.redis - c0.redis),
      total: per1k(c1.svc - c0.svc + c1.redis - c0.redis),
      perSecond: Math.round(jobs / ((c1.at - c0.at) / 1000)),
      load,
      commands,
      ...(scripts && { scripts }),
    };
  } finally {
    await queue.close();
    // Its reconnection attempts would keep this process alive once Redis is stopped.
    connection.disconnect();
    await service.stop('SIGTERM', 10_000);
    await redis.stop();
  }
  // The isolate starts a little after the spawn: the window starts and ends that much later.
  if (values.gc) row.gc = gcPer(gcLines(output), drainMs[0], drainMs[1], jobs / 1000);
  return row;
}

try {
  const rows = [];
  for (let r = 0; r < repeat; r++)
    for (const name of systems) {
      const row = await drainOnce(name);
      if (values.prof) {
        const profile = profileComponents(
          `${values.prof}/${name}`,
          window.fromUs,
          window.toUs,
          jobs,
        );
        row.profile = profile;
        console.error(JSON.stringify(profile, null, 1));
      }
      rows.push(row);
      console.error(
        `${row.system}: CPU-ms/1k service ${row.svc} + redis ${row.redis} = ${row.total}, ` +
          `${row.perSecond} jobs/s (load average ${row.load})`,
      );
      const top = Object.entries(row.commands).slice(0, 8);
      console.error(
        `  Redis commands per 1,000 jobs (calls, usec): ` +
          top.map(([command, c]) => `${command} ${c.calls} ${c.usec}`).join(', '),
      );
      if (row.gc)
        console.error(
          `  GC per 1,000 jobs: ${row.gc.allocatedKiB} KiB allocated; ${row.gc.scavenges} ` +
            `scavenges (${row.gc.scavengeMs} ms, ${row.gc.survivedKiB} KiB survived, ` +
            `${row.gc.promotedKiB} KiB promoted); ${row.gc.markCompacts} mark-compacts ` +
            `(${row.gc.markCompactMs} ms)`,
        );
      if (row.scripts)
        console.error(
          `  by owner (slow log; calls, usec per 1,000 jobs): ` +
            Object.entries(row.scripts)
              .slice(0, 6)
              .map(([part, c]) => `${part} ${c.calls} ${c.usec}`)
              .join(', '),
        );
    }
  console.log(JSON.stringify({ jobs, users, concurrency: concurrency ?? null, rows }));
} finally {
  await stopAll();
}
