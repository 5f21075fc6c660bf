#!/usr/bin/env node
/**
 * `npm run bench`: the same scenarios against ours and the two reference stacks, in one run.
 * For each system: a private Redis, the system in its own process, a producer process and a client
 * process (see README.md). Every child is killed at the end, also on error or Ctrl-C.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { freePort, rssKiB, startProcess, stopAll } from '../test/kit/processes.mjs';
import { startRedis } from '../test/kit/redis.mjs';
import { sleep } from '../test/kit/timing.mjs';
import {
  commandStats,
  commandsPerUnit,
  commandUsecPer1k,
  profileComponents,
  slowlogComponents,
  startSlowlog,
} from './lib/breakdown.mjs';
import { cpuMs, machineBusyMs, runQueueWait, syscalls, untilQuiet } from './lib/cpu.mjs';
import { measureMemory } from './lib/memory.mjs';
import { startRedisCluster } from './lib/redis-cluster.mjs';
import * as report from './lib/report.mjs';
import { rpcClient } from './lib/rpc.mjs';
import { round } from './lib/stats.mjs';

const SECRET = 'bench-only-secret-that-is-long-enough-for-hs256';
const ALL_SYSTEMS = ['ours', 'ours-cluster', 'ours-jobs', 'ours-http', 'naive', 'socketio'];
/** Systems that run only when asked for: `ours-jobs-base` needs `--baseline DIR`. */
const OPTIONAL_SYSTEMS = ['ours-jobs-base'];
const API_KEY = 'bench-only-api-key-0123456789';
const ALL_SCENARIOS = ['memory', 'idle', 'fanout', 'steady', 'headline'];
/** Scenarios that run only when asked for (`breakdown` profiles the service, which costs CPU). */
const OPTIONAL_SCENARIOS = ['breakdown'];
/** The scenarios that run per system, on its sockets (memory runs once, for ours: see lib/memory.mjs). */
const SOCKET_SCENARIOS = ['idle', 'fanout', 'steady', 'headline', 'breakdown'];
/** Cores the rest of the machine may use before a step waits, or a failed step is run again. */
const OTHER_LOAD_LIMIT = 0.3;
/** 10,000 sockets need more open files than the usual 1,024; BENCH_VERBOSE=1 shows each child's output. */
const CHILD_OPTIONS = { raiseFileLimit: true, echo: Boolean(process.env.BENCH_VERBOSE) };
const DEFAULT_RATES = [500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000];

const PROFILES = {
  full: {
    sockets: 10_000,
    users: 5_000,
    stepMs: 10_000,
    headlineMs: 30_000,
    drainMs: 5_000,
    warmupMs: 5_000,
    probes: 2,
  },
  quick: {
    sockets: 1_000,
    users: 500,
    stepMs: 2_000,
    headlineMs: 5_000,
    drainMs: 2_000,
    warmupMs: 1_000,
    probes: 1,
  },
};

const SYSTEMS = {
  ours: {
    label: 'ours (Nest, ROLE=all, history on)',
    script: 'dist-bench/dist/src/main.js', // a snapshot of dist/, see snapshotDist()
    env: { ROLE: 'all', NODE_ENV: 'production', JWT_SECRET: SECRET, ALLOWED_ORIGINS: '*' },
    // The job contract allows at most 1,000 users per job: 10,000 users are 10 jobs.
    fanoutChunk: 1_000,
    // Its producer API: NotificationService, which coalesces concurrent calls into batch jobs.
    producer: 'service',
    protocol: 'ours',
  },
  // The same build on a Redis Cluster of three masters (sharded pub/sub, batches split per node):
  // what the cluster does to the held rate and to CPU per notification on the same machine.
  'ours-cluster': {
    label: 'ours on a Redis Cluster (3 masters, no replicas)',
    script: 'dist-bench/dist/src/main.js',
    env: { ROLE: 'all', NODE_ENV: 'production', JWT_SECRET: SECRET, ALLOWED_ORIGINS: '*' },
    fanoutChunk: 1_000,
    producer: 'service',
    protocol: 'ours',
    clusterMasters: 3,
  },
  // The same build, fed one BullMQ job per notification as the peers are: the "before" of the
  // producer-side batching, measured in the same run.
  'ours-jobs': {
    label: 'ours, one BullMQ job per notification (no producer batching)',
    script: 'dist-bench/dist/src/main.js',
    env: { ROLE: 'all', NODE_ENV: 'production', JWT_SECRET: SECRET, ALLOWED_ORIGINS: '*' },
    fanoutChunk: 1_000,
    producer: 'jobs',
    protocol: 'ours',
  },
  // The same build, fed by HTTP publish: one POST /v1/notifications per notification, keep-alive.
  'ours-http': {
    label: 'ours, one POST /v1/notifications per notification (keep-alive)',
    script: 'dist-bench/dist/src/main.js',
    env: {
      ROLE: 'all',
      NODE_ENV: 'production',
      JWT_SECRET: SECRET,
      ALLOWED_ORIGINS: '*',
      API_KEYS: API_KEY,
    },
    fanoutChunk: 1_000,
    producer: 'http',
    protocol: 'ours',
  },
  // Another build (--baseline DIR, e.g. a worktree of main, built), fed one job per notification:
  // the "before" of a change to the worker, in the same run.
  'ours-jobs-base': {
    label: 'ours before (--baseline), one BullMQ job per notification',
    script: 'dist-base/dist/src/main.js',
    distRoot: 'dist-base/dist',
    env: { ROLE: 'all', NODE_ENV: 'production', JWT_SECRET: SECRET, ALLOWED_ORIGINS: '*' },
    fanoutChunk: 1_000,
    producer: 'jobs',
    protocol: 'ours',
  },
  naive: {
    label: 'naive (ws + uid map + BullMQ worker)',
    script: 'bench/peers/naive.mjs',
    env: { NODE_ENV: 'production' },
    fanoutChunk: null, // one job for everyone
  },
  socketio: {
    label: 'socketio (Socket.IO + redis-adapter + BullMQ worker)',
    script: 'bench/peers/socketio.mjs',
    env: { NODE_ENV: 'production', JWT_SECRET: SECRET },
    fanoutChunk: null, // one job for everyone
  },
};

const USAGE = `usage: npm run bench -- [options]
  --quick                    short steps and fewer sockets (development)
  --systems ours,ours-cluster,ours-jobs,ours-http,naive,socketio   (also ours-jobs-base, with --baseline)
  --scenarios memory,idle,fanout,steady,headline   (headline needs steady's steps and runs them;
                             memory: Redis bytes per stored notification, ours only;
                             add breakdown for CPU per notification by component, profiled)
  --baseline DIR             a built checkout (e.g. a worktree of main) run as ours-jobs-base
  --breakdown-rate N         the rate of the breakdown step (/s, default 1000)
  --rates 500,1000,...       offered rates of the steady steps (/s)
  --step-seconds N           length of a steady step (10; quick 2)
  --headline-seconds N       how long the headline rate must hold (30; quick 5)
  --sockets N                idle sockets = fan-out users (10000; quick 1000)
  --users N                  users the steady load goes to (5000; quick 500)
  --concurrency N            WORKER_CONCURRENCY for every system (default: each system's own, 8)
  --producer jobs|service    ours' producer: NotificationService (default) or BullMQ jobs by the contract
  --ours-env KEY=VALUE       extra environment for ours (repeatable), e.g. --ours-env HISTORY_LIMIT=100
  --cpu-prof DIR             keep a V8 CPU profile of each system's service in DIR (node --cpu-prof), in a
                             folder per system: the peers' too, to compare where the time goes
  --report FILE.json         print the tables of an earlier run again (runs nothing)`;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      systems: { type: 'string', default: ALL_SYSTEMS.join(',') },
      scenarios: { type: 'string', default: ALL_SCENARIOS.join(',') },
      rates: { type: 'string' },
      'step-seconds': { type: 'string' },
      'headline-seconds': { type: 'string' },
      sockets: { type: 'string' },
      users: { type: 'string' },
      concurrency: { type: 'string' },
      producer: { type: 'string' },
      baseline: { type: 'string' },
      'breakdown-rate': { type: 'string' },
      'cpu-prof': { type: 'string' },
      'ours-env': { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const list = (text, allowed, what) => {
    const items = text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = items.filter((s) => !allowed.includes(s));
    if (bad.length > 0) throw new Error(`unknown ${what}: ${bad.join(', ')}\n${USAGE}`);
    return items;
  };
  const profile = PROFILES[values.quick ? 'quick' : 'full'];
  const number = (text, fallback) => (text === undefined ? fallback : Number(text));
  const scenarios = new Set(
    list(values.scenarios, [...ALL_SCENARIOS, ...OPTIONAL_SCENARIOS], 'scenario'),
  );
  if (scenarios.has('headline')) scenarios.add('steady');
  if (values.producer !== undefined && !['jobs', 'service'].includes(values.producer))
    throw new Error(`--producer jobs|service\n${USAGE}`);
  const o = {
    profile: values.quick ? 'quick' : 'full',
    systems: list(values.systems, [...ALL_SYSTEMS, ...OPTIONAL_SYSTEMS], 'system'),
    scenarios,
    baseline: values.baseline,
    cpuProf: values['cpu-prof'] && resolve(values['cpu-prof']),
    breakdownRate: number(values['breakdown-rate'], 1000),
    rates: values.rates ? values.rates.split(',').map(Number) : DEFAULT_RATES,
    stepMs: number(values['step-seconds'], profile.stepMs / 1000) * 1000,
    headlineMs: number(values['headline-seconds'], profile.headlineMs / 1000) * 1000,
    sockets: number(values.sockets, profile.sockets),
    users: number(values.users, profile.users),
    drainMs: profile.drainMs,
    warmupMs: profile.warmupMs,
    probes: profile.probes,
    concurrency: values.concurrency,
    producer: values.producer,
    oursEnv: Object.fromEntries(
      values['ours-env'].map((pair) => {
        const at = pair.indexOf('=');
        if (at < 1) throw new Error(`--ours-env wants KEY=VALUE, got "${pair}"\n${USAGE}`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    ),
  };
  o.users = Math.min(o.users, o.sockets);
  if (o.systems.includes('ours-jobs-base') && !o.baseline)
    throw new Error(`ours-jobs-base needs --baseline DIR\n${USAGE}`);
  if (o.baseline && !o.systems.includes('ours-jobs-base')) o.systems.push('ours-jobs-base');
  if (
    ![o.stepMs, o.headlineMs, o.sockets, o.users, ...o.rates].every(
      (n) => Number.isFinite(n) && n > 0,
    )
  )
    throw new Error(`numbers must be positive\n${USAGE}`);
  return o;
}

const log = (system, text) =>
  console.error(`[${new Date().toISOString().slice(11, 19)}] [${system}] ${text}`);

/** Two significant digits: the probes between two steps land on readable rates. */
const nice = (x) => Number(x.toPrecision(2));

const passes = (s) =>
  s.lost === 0 &&
  s.duplicates === 0 &&
  s.latency.p99 !== null &&
  s.latency.p99 <= report.HEADLINE_P99_MS;

/**
 * Starts a load process (bench/load/<name>.mjs) and returns its RPC function. A larger young
 * generation lets the short-lived garbage of parsing frames die young, so that fewer full
 * collections pause the load process (a pause would count as the system's latency).
 */
async function startLoad(system, name, init) {
  const args = ['--max-semi-space-size=32', `bench/load/${name}.mjs`];
  const proc = startProcess(`${system}/${name}`, process.execPath, args, {
    ipc: true,
    ...CHILD_OPTIONS,
  });
  const call = rpcClient(proc.process, `${system}/${name}`);
  await call('init', init, 30_000);
  return { proc, call };
}

async function benchSystem(name, o) {
  const def = SYSTEMS[name];
  const result = { system: name, label: def.label };
  let stepId = 0;

  const redis = def.clusterMasters
    ? await startRedisCluster(def.clusterMasters)
    : await startRedis();
  // Every node's URL: a cluster's command stats and slow log are the sum of its nodes'.
  const redisNodes = redis.seeds
    ? redis.seeds.split(',').map((address) => `redis://${address}`)
    : [redis.url];
  const port = await freePort();
  const env = { ...def.env, PORT: String(port) };
  if (def.clusterMasters) env.REDIS_CLUSTER_NODES = redis.seeds;
  else env.REDIS_URL = redis.url;
  if (o.concurrency) env.WORKER_CONCURRENCY = o.concurrency;
  if (def.protocol === 'ours') Object.assign(env, o.oursEnv);
  // The breakdown profiles ours' service (written when it exits) and cuts the profile to its step;
  // with --cpu-prof, every system's profile is kept, in a folder of its own.
  const keptProfileDir = o.cpuProf ? join(o.cpuProf, name) : null;
  const profileDir =
    keptProfileDir ??
    (o.scenarios.has('breakdown') && def.protocol === 'ours'
      ? mkdtempSync(join(tmpdir(), 'notif-bench-prof-'))
      : null);
  const nodeArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const service = startProcess(name, process.execPath, [...nodeArgs, def.script], {
    env,
    ...CHILD_OPTIONS,
  });
  let breakdownWindow = null;
  const loads = [];
  try {
    await service.waitFor('listening on', 60_000);
    log(name, `listening on ${port}, Redis ${redis.url}`);
    const producer = await startLoad(name, 'producer', {
      system: def.protocol ?? name,
      redisUrl: redis.url,
      clusterNodes: redis.seeds,
      queueName: 'notifications',
      mode:
        name === 'ours' || name === 'ours-cluster'
          ? (o.producer ?? def.producer)
          : (def.producer ?? 'jobs'),
      distRoot: def.distRoot ?? 'dist-bench/dist',
      httpUrl: `http://127.0.0.1:${port}`,
      apiKey: API_KEY,
    });
    loads.push(producer);
    const clients = await startLoad(name, 'clients', {
      system: def.protocol ?? name,
      baseUrl: `ws://127.0.0.1:${port}`,
      secret: SECRET,
    });
    loads.push(clients);
    const pids = {
      service: service.pid,
      // A cluster's CPU is the sum of its nodes'.
      redis: redis.pids ?? [redis.pid],
      producer: producer.proc.pid,
      clients: clients.proc.pid,
    };
    const cpuNow = () => ({
      ...Object.fromEntries(
        Object.entries(pids).map(([k, pid]) => [
          k,
          [pid].flat().reduce((sum, one) => sum + cpuMs(one), 0),
        ]),
      ),
      machine: machineBusyMs(),
      self: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
      at: Date.now(),
    });

    /**
     * `read(pid)` of the service and of its Redis (all nodes, each field summed), so far: counters
     * such as system calls or run-queue waits.
     */
    const serviceAndRedis = (read) =>
      Object.fromEntries(
        ['service', 'redis'].map((k) => [
          k,
          [pids[k]]
            .flat()
            .map(read)
            .reduce((sum, one) =>
              Object.fromEntries(Object.entries(sum).map(([f, v]) => [f, v + one[f]])),
            ),
        ]),
      );
    /** Read and write system calls of the service and of its Redis (all nodes) so far. */
    const syscallsNow = () => serviceAndRedis(syscalls);
    /** System calls per unit since `before` (a syscallsNow()), for `units` connects, users… */
    const syscallsPer = (before, units) => {
      const now = syscallsNow();
      const per = (k, f) => round((now[k][f] - before[k][f]) / Math.max(1, units));
      return Object.fromEntries(
        ['service', 'redis'].map((k) => [k, { writes: per(k, 'writes'), reads: per(k, 'reads') }]),
      );
    };

    /** Run-queue waits of the service's and Redis's main threads so far (Redis: all nodes). */
    const waitsNow = () => serviceAndRedis(runQueueWait);
    /**
     * Per process since `before` (a waitsNow()) over `elapsedMs`: ms waited for a CPU per second,
     * and µs per wait on average (per time slice it was given).
     */
    const waitsSince = (before, elapsedMs) => {
      const now = waitsNow();
      return Object.fromEntries(
        ['service', 'redis'].map((k) => {
          const ms = now[k].ms - before[k].ms;
          const slices = now[k].slices - before[k].slices;
          return [
            k,
            {
              msPerSecond: round((ms * 1000) / Math.max(1, elapsedMs)),
              usPerWait: round((ms * 1000) / Math.max(1, slices)),
            },
          ];
        }),
      );
    };

    /** CPU-ms each process spent since `before` (a cpuNow()). */
    const cpuSince = (before) => {
      const now = cpuNow();
      return Object.fromEntries(
        ['service', 'redis', 'clients'].map((k) => [k, now[k] - before[k]]),
      );
    };
    const perThousand = (ms, count) =>
      Object.fromEntries(
        Object.entries(ms).map(([k, v]) => [k, Math.round((v * 1000) / Math.max(1, count))]),
      );

    const otherCoresNow = async (ms) => {
      const a = cpuNow();
      await sleep(ms);
      const b = cpuNow();
      const ours = [...Object.keys(pids), 'self'].reduce((sum, k) => sum + b[k] - a[k], 0);
      return (b.machine - a.machine - ours) / (b.at - a.at);
    };

    /** Waits (at most 30 s) until the rest of the machine is nearly idle; returns how long. */
    const waitForQuietMachine = async () => {
      const started = Date.now();
      while (Date.now() - started < 30_000) {
        if ((await otherCoresNow(1_000)) <= OTHER_LOAD_LIMIT) break;
      }
      return Date.now() - started;
    };

    // IDLE: RSS of the settled process, then with every socket authenticated and live.
    await sleep(2_000);
    await waitForQuietMachine();
    // The tokens are signed first: their signing (about 0.2 ms each in the clients' process) is
    // not the connects' cost.
    await clients.call('prepare', { count: o.sockets }, 300_000);
    const rssBeforeKiB = rssKiB(service.pid);
    const connectStats = await commandStats(redisNodes);
    const connectSyscalls = syscallsNow();
    const connectCpu = cpuNow();
    const connect = await clients.call('connect', { count: o.sockets }, 300_000);
    const connectCpuMs = cpuSince(connectCpu);
    const connectSyscallsPer = syscallsPer(connectSyscalls, connect.connected);
    const connectCommands = commandUsecPer1k(
      connectStats,
      await commandStats(redisNodes),
      Math.max(1, connect.connected),
    );
    const connectCounts = commandsPerUnit(connectCommands);
    await sleep(3_000);
    const rssAfterKiB = rssKiB(service.pid);
    result.idle = {
      requested: o.sockets,
      connected: connect.connected,
      failed: connect.failed,
      errors: connect.errors,
      connectSeconds: round(connect.elapsedMs / 1000),
      connectsPerSecond: Math.round(connect.connected / (connect.elapsedMs / 1000)),
      rssBeforeKiB,
      rssAfterKiB,
      rssPerSocketKiB: round((rssAfterKiB - rssBeforeKiB) / Math.max(1, connect.connected)),
      // CPU-ms per 1,000 connects, by process (service, Redis, the clients' load process).
      cpuPer1kConnects: perThousand(connectCpuMs, connect.connected),
      // Redis commands per 1,000 connects, by command (INFO commandstats: the commands a script
      // runs are counted too); per connect, in all and the script calls among them.
      redisPer1kConnects: connectCommands,
      redisCommandsPerConnect: connectCounts.commands,
      redisScriptCallsPerConnect: connectCounts.scriptCalls,
      // Read and write system calls per connect of the service and of Redis (/proc/<pid>/io).
      syscallsPerConnect: connectSyscallsPer,
    };
    log(
      name,
      `idle: ${connect.connected}/${o.sockets} live in ${result.idle.connectSeconds} s, ${result.idle.rssPerSocketKiB} KiB/socket` +
        (connect.failed ? `, failures: ${JSON.stringify(connect.errors)}` : ''),
    );
    if (connect.connected === 0) throw new Error(`${name}: no socket could connect`);

    // FAN-OUT: one notification to every connected user.
    if (o.scenarios.has('fanout')) {
      await waitForQuietMachine();
      const step = ++stepId;
      await clients.call('expect', { step, kind: 'fanout', capacity: o.sockets });
      const fanoutStats = await commandStats(redisNodes);
      const fanoutSyscalls = syscallsNow();
      const fanoutCpu = cpuNow();
      const sent = await producer.call(
        'fanout',
        { step, users: o.sockets, chunk: def.fanoutChunk },
        60_000,
      );
      const got = await clients.call(
        'collect',
        { step, expected: connect.connected, timeoutMs: 30_000 },
        60_000,
      );
      const fanoutCpuMs = cpuSince(fanoutCpu);
      const fanoutSyscallsPer = syscallsPer(fanoutSyscalls, got.received);
      const fanoutCommands = commandUsecPer1k(
        fanoutStats,
        await commandStats(redisNodes),
        Math.max(1, got.received),
      );
      const fanoutCounts = commandsPerUnit(fanoutCommands);
      result.fanout = {
        users: o.sockets,
        jobs: sent.jobs,
        received: got.received,
        duplicates: got.duplicates,
        firstMs: round(got.firstMs),
        lastMs: got.latency.max,
        latency: got.latency,
        // CPU-ms per 1,000 users reached, by process, from the enqueue to the last arrival.
        cpuPer1kUsers: perThousand(fanoutCpuMs, got.received),
        // Redis commands per user reached, from the enqueue to the last arrival (INFO
        // commandstats, as for the connects): what the fan-out's critical path carries.
        redisCommandsPerUser: fanoutCounts.commands,
        redisScriptCallsPerUser: fanoutCounts.scriptCalls,
        syscallsPerUser: fanoutSyscallsPer,
      };
      log(
        name,
        `fan-out: ${got.received}/${connect.connected} in ${got.latency.max} ms (first ${result.fanout.firstMs} ms)`,
      );
      await producer.call('settle', { timeoutMs: 10_000, drain: true }, 60_000);
    }

    /** One open-loop step at `rate` for `durationMs`, measured from the first send to the drain. */
    const runStep = async (rate, durationMs, tag = '') => {
      const waitedForQuietMs = await waitForQuietMachine();
      const step = ++stepId;
      const capacity = Math.round((rate * durationMs) / 1000);
      const reopened = await clients.call('reopen', {}, 120_000);
      await clients.call('expect', { step, kind: 'steady', capacity });
      const stats0 = await commandStats(redisNodes);
      const syscalls0 = syscallsNow();
      const waits0 = waitsNow();
      const cpu0 = cpuNow();
      const fromUs = Number(process.hrtime.bigint() / 1000n);
      const run = await producer.call(
        'run',
        { step, rate, durationMs, users: o.users },
        durationMs + 120_000,
      );
      const got = await clients.call(
        'collect',
        { step, expected: run.sent, timeoutMs: o.drainMs },
        o.drainMs + 60_000,
      );
      const cpu1 = cpuNow();
      const waits = waitsSince(waits0, cpu1.at - cpu0.at);
      const stepSyscalls = syscallsPer(syscalls0, run.sent);
      const toUs = Number(process.hrtime.bigint() / 1000n);
      const stats1 = await commandStats(redisNodes);
      const lost = run.sent - got.received;
      const settle = await producer.call(
        'settle',
        { timeoutMs: lost > 0 ? 0 : 10_000, drain: true },
        60_000,
      );
      const per1k = (key) => round(((cpu1[key] - cpu0[key]) / Math.max(1, run.sent)) * 1000);
      // CPU the rest of the machine used meanwhile (other work on the box), in cores.
      const ours = [...Object.keys(pids), 'self'].reduce((sum, k) => sum + cpu1[k] - cpu0[k], 0);
      const otherCores = round((cpu1.machine - cpu0.machine - ours) / (cpu1.at - cpu0.at), 2);
      const s = {
        rate,
        durationMs,
        sent: run.sent,
        received: got.received,
        lost,
        duplicates: got.duplicates,
        enqueueFailed: run.failed,
        ...(run.firstError === undefined ? {} : { enqueueError: run.firstError }),
        latency: got.latency,
        cpuMsPer1k: {
          service: per1k('service'),
          redis: per1k('redis'),
          producer: per1k('producer'),
          clients: per1k('clients'),
        },
        // Read and write system calls per notification, of the service and of Redis.
        syscallsPerNotification: stepSyscalls,
        // How long their main threads were ready to run but had no CPU (the machine's share of
        // the tail: an event loop that waits for a core delays everything it has).
        runQueueWait: waits,
        // Redis's time in each command (scripts include the commands they call), per 1,000.
        redisUsecPer1k: commandUsecPer1k(stats0, stats1, Math.max(1, run.sent)),
        loadAverage: loadAverage(),
        window: { fromUs, toUs },
        otherCores: Math.max(0, otherCores),
        waitedForQuietMs,
        producerBehind: run.scheduledMs > durationMs * 1.05 + 50,
        producerLagMs: { p99: run.lag.p99, max: run.lag.max },
        // The load processes' own longest stalls: if these are long, so is the tail they measure.
        loadStalls: { producer: run.stalls, clients: got.stalls },
        drainedAfterStep: settle.drained,
        socketsReopenedBefore: reopened.connected,
        socketsClosedSoFar: got.closedWhileLive,
      };
      // A backlog delays the median too; a p99 over 1 s with a fast median is a stall, not saturation.
      const backlog = s.latency.p99 > 1_000 && s.latency.p50 > 100;
      const saturated = lost > 0 || s.latency.p99 === null || backlog || s.producerBehind;
      s.verdict = passes(s) ? 'ok' : saturated ? 'saturated' : 'slow';
      log(
        name,
        `${tag}${rate}/s × ${durationMs / 1000} s: p50 ${s.latency.p50} p99 ${s.latency.p99} max ${s.latency.max} ms, ` +
          `lost ${lost}, dup ${s.duplicates}, ` +
          (run.failed ? `enqueue failed ${run.failed} (first: ${run.firstError}), ` : '') +
          `cpu/1k svc ${s.cpuMsPer1k.service} redis ${s.cpuMsPer1k.redis}, ` +
          `waited for a CPU svc ${waits.service.msPerSecond} redis ${waits.redis.msPerSecond} ms/s, ` +
          `other load ${s.otherCores} cores, load loop max prod ${run.stalls.loopDelayMaxMs} ` +
          `clients ${got.stalls.loopDelayMaxMs} ms → ${s.verdict}`,
      );
      // Let whatever is still in flight arrive (it counts as a stray, not in this step).
      await clients.call('quiet', { quietMs: 500, timeoutMs: 15_000 }, 30_000);
      return s;
    };

    /** A step that failed while other work loaded the machine is run once more; the second counts. */
    const measure = async (rate, durationMs, tag = '') => {
      const first = await runStep(rate, durationMs, tag);
      if (first.verdict === 'ok' || first.otherCores <= OTHER_LOAD_LIMIT) return first;
      const again = await runStep(rate, durationMs, `${tag}(again: other load) `);
      again.disturbedAttempt = {
        otherCores: first.otherCores,
        p99: first.latency.p99,
        lost: first.lost,
        verdict: first.verdict,
      };
      return again;
    };

    if (o.scenarios.has('steady')) {
      // Warm-up (JIT, connection pools), not reported.
      await runStep(o.rates[0] / 2, o.warmupMs, 'warm-up ');
      result.steady = [];
      for (const rate of o.rates) {
        const s = await measure(rate, o.stepMs);
        result.steady.push(s);
        if (s.verdict === 'saturated') break;
      }
    }

    if (o.scenarios.has('headline')) {
      // Bracket the rate between the best passing step and the first failing one, then hold it.
      let best = Math.max(0, ...result.steady.filter(passes).map((s) => s.rate));
      let failing = result.steady.find((s) => s.rate > best && !passes(s))?.rate;
      if (best === 0) best = nice(o.rates[0] / 2);
      for (let i = 0; i < o.probes && failing; i++) {
        const mid = nice(Math.sqrt(best * failing));
        if (mid <= best || mid >= failing) break;
        const s = await measure(mid, o.stepMs, 'probe ');
        s.probe = true;
        result.steady.push(s);
        if (passes(s)) best = mid;
        else failing = mid;
      }
      const attempts = [];
      for (let i = 0; i < 3 && best >= 50; i++) {
        const s = await measure(best, o.headlineMs, 'headline ');
        attempts.push(s);
        if (passes(s)) {
          result.headline = { rate: best, holdMs: o.headlineMs, step: s };
          break;
        }
        best = nice(best * 0.8);
      }
      result.headline ??= { rate: 0, holdMs: o.headlineMs, step: attempts.at(-1) ?? null };
      result.headline.attempts = attempts.map((s) => ({
        rate: s.rate,
        p99: s.latency.p99,
        lost: s.lost,
        verdict: s.verdict,
      }));
    }
    if (o.scenarios.has('breakdown')) {
      // One step with every Redis command logged (slow log at 0 µs) and the service profiled.
      const stopSlowlog = await startSlowlog(redisNodes);
      const s = await runStep(o.breakdownRate, o.stepMs, 'breakdown ');
      const entries = await stopSlowlog();
      breakdownWindow = { ...s.window, sent: s.sent };
      result.breakdown = {
        rate: o.breakdownRate,
        step: s,
        redisCpuMsPer1k: s.cpuMsPer1k.redis,
        serviceCpuMsPer1k: s.cpuMsPer1k.service,
        redisCommands: slowlogComponents(entries, Math.max(1, s.sent)),
        slowlogEntries: entries.length,
      };
    }
    result.jobCounts = await producer.call('counts');
    if (result.jobCounts.failed > 0) log(name, `WARNING: ${result.jobCounts.failed} jobs failed`);
    // DISCONNECTS: every socket dropped by its client at once (a network blip, a proxy restart):
    // what the service and Redis spend until they are quiet again.
    const disconnectCpu = cpuNow();
    const dropped = await clients.call('close', {}, 30_000);
    await untilQuiet([service.pid, ...pids.redis]);
    result.disconnects = {
      sockets: dropped,
      cpuPer1k: perThousand(cpuSince(disconnectCpu), dropped),
    };
  } catch (error) {
    result.error = error.message;
    log(
      name,
      `FAILED: ${error.message}\n--- ${name} output (tail) ---\n${service.output().slice(-4000)}`,
    );
  } finally {
    await service.stop('SIGTERM', 10_000);
    for (const load of loads) await load.proc.stop('SIGTERM', 3_000);
    await redis.stop();
    if (profileDir && breakdownWindow && result.breakdown) {
      result.breakdown.service = profileComponents(
        profileDir,
        breakdownWindow.fromUs,
        breakdownWindow.toUs,
        Math.max(1, breakdownWindow.sent),
      );
    }
    if (profileDir && !keptProfileDir) rmSync(profileDir, { recursive: true, force: true });
  }
  return result;
}

/** The packages the service imports, as `libs/<folder>` → `@rtnotify/<name>`. */
const PACKAGES = { protocol: 'protocol', client: 'client', notifications: 'nestjs' };

/**
 * Copies dist/ to dist-bench/dist/, and each package's package.json and dist/ to
 * dist-bench/node_modules/@rtnotify/<name>/ (found first from dist-bench/dist/src/main.js), and runs
 * ours from there: a build started meanwhile (it empties dist/ and libs/X/dist first) cannot pull
 * the service away in the middle of a run.
 */
function snapshotDist(from = '.', to = 'dist-bench') {
  const built = [
    'dist/src/main.js',
    ...Object.keys(PACKAGES).map((f) => `libs/${f}/dist/index.js`),
  ].map((file) => join(from, file));
  for (const file of built) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build" first`);
  }
  rmSync(`${to}/dist`, { recursive: true, force: true });
  rmSync(`${to}/node_modules`, { recursive: true, force: true });
  cpSync(join(from, 'dist'), `${to}/dist`, { recursive: true });
  for (const [folder, name] of Object.entries(PACKAGES)) {
    const target = `${to}/node_modules/@rtnotify/${name}`;
    cpSync(join(from, `libs/${folder}/package.json`), `${target}/package.json`);
    cpSync(join(from, `libs/${folder}/dist`), `${target}/dist`, { recursive: true });
  }
  const copied = [`${to}/dist/src/main.js`, `${to}/node_modules/@rtnotify/nestjs/dist/index.js`];
  if (!copied.every((file) => existsSync(file)))
    throw new Error(`${from}/dist changed while it was copied: run again`);
}

/** The machine's 1-minute load average (other helpers share it): stated next to every figure. */
function loadAverage() {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

function git(...args) {
  try {
    return execFileSync('git', args, { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

function machine() {
  let redisVersion = null;
  try {
    redisVersion =
      /v=(\S+)/.exec(execFileSync('redis-server', ['--version']).toString())?.[1] ?? null;
  } catch {
    // reported as null
  }
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: round(totalmem() / 2 ** 30),
    node: process.version,
    redis: redisVersion,
  };
}

async function main() {
  const o = options();
  if (o.systems.some((name) => SYSTEMS[name].protocol === 'ours' && name !== 'ours-jobs-base'))
    snapshotDist();
  if (o.systems.includes('ours-jobs-base')) snapshotDist(o.baseline, 'dist-base');
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  console.error(
    `bench (${o.profile}): systems ${o.systems.join(', ')}; scenarios ${[...o.scenarios].join(', ')}; ` +
      `${o.sockets} sockets, ${o.users} users, steps ${o.stepMs / 1000} s, headline ${o.headlineMs / 1000} s`,
  );
  let memory;
  if (o.scenarios.has('memory') && o.systems.includes('ours')) {
    // 10,000 notifications (100 users × 100) through the service; HISTORY_LIMIT from --ours-env.
    const limit = o.oursEnv.HISTORY_LIMIT;
    memory = await measureMemory({
      main: 'dist-bench/dist/src/main.js',
      historyLimit: limit === undefined ? undefined : Number(limit),
      log: (text) => log('memory', text),
    }).catch((error) => ({ error: error.message }));
  }
  const results = {};
  if (SOCKET_SCENARIOS.some((s) => o.scenarios.has(s)))
    for (const name of o.systems) results[name] = await benchSystem(name, o);

  const targets = report.targets(results, memory);
  const durationSeconds = Math.round((Date.now() - started) / 1000);
  const run = {
    startedAt,
    durationSeconds,
    machine: machine(),
    commit: git('rev-parse', '--short', 'HEAD'),
    uncommittedFiles: git('status', '--porcelain')?.split('\n').filter(Boolean).length ?? null,
    options: { ...o, scenarios: [...o.scenarios] },
    results,
    memory,
    targets,
  };
  if (interrupted) return;
  report.printRun(run);
  const file = report.writeResults(new URL('./results/', import.meta.url), run);
  console.log(
    `\nresults: ${file} (and results/latest.json); took ${Math.floor(durationSeconds / 60)} min ${durationSeconds % 60} s`,
  );
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping every child`);
    void stopAll().finally(() => process.exit(130));
  });
}

try {
  const at = process.argv.indexOf('--report');
  if (at > 0) {
    // Prints the tables of an earlier run again: npm run bench -- --report bench/results/<run>.json
    report.printRun(JSON.parse(readFileSync(process.argv[at + 1] ?? '', 'utf8')));
  } else {
    await main();
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await stopAll();
}
