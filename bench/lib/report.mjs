/** Tables on stdout, ratios between systems, the targets, and the JSON files under results/. */
import { mkdirSync, writeFileSync } from 'node:fs';

export const HEADLINE_P99_MS = 50;

const dash = '—';

export function fmt(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return dash;
  if (typeof value !== 'number') return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

/** a / b to two significant digits ("×"), or — when either is missing. */
export function ratio(a, b) {
  if (typeof a !== 'number' || typeof b !== 'number' || b === 0 || !Number.isFinite(a / b))
    return null;
  return Number((a / b).toPrecision(2));
}

const fmtRatio = (value) => (value === null ? dash : `${value}×`);

export function printTable(title, headers, rows) {
  const cells = rows.map((row) => row.map((cell) => (typeof cell === 'string' ? cell : fmt(cell))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i].length)));
  const line = (row) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' │ ');
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(widths.map((w) => '─'.repeat(w)).join('─┼─'));
  for (const row of cells) console.log(line(row));
}

/** Rows of metric | one column per system | ours/<each other system>. */
function sideBySide(title, results, metrics) {
  const names = Object.keys(results);
  const others = names.filter((n) => n !== 'ours');
  const withOurs = names.includes('ours');
  const headers = ['', ...names, ...(withOurs ? others.map((o) => `ours/${o}`) : [])];
  const rows = metrics.map(([label, pick]) => {
    const values = names.map((n) => pick(results[n]) ?? null);
    const ours = withOurs ? pick(results.ours) : null;
    return [
      label,
      ...values,
      ...(withOurs ? others.map((o) => fmtRatio(ratio(ours, pick(results[o])))) : []),
    ];
  });
  printTable(title, headers, rows);
}

export function printIdle(results, sockets) {
  sideBySide(
    `IDLE — ${fmt(sockets)} authenticated sockets (ours/x < 1 is better for memory)`,
    results,
    [
      ['sockets live', (r) => r.idle?.connected],
      ['connects/s', (r) => r.idle?.connectsPerSecond],
      ['RSS before (MiB)', (r) => r.idle && r.idle.rssBeforeKiB / 1024],
      ['RSS with sockets (MiB)', (r) => r.idle && r.idle.rssAfterKiB / 1024],
      ['RSS per socket (KiB)', (r) => r.idle?.rssPerSocketKiB],
      ['CPU-ms / 1k connects: service', (r) => r.idle?.cpuPer1kConnects?.service],
      ['  Redis', (r) => r.idle?.cpuPer1kConnects?.redis],
      ['  clients (load)', (r) => r.idle?.cpuPer1kConnects?.clients],
      ...countRows(
        'connect',
        (r) =>
          r.idle && {
            commands: r.idle.redisCommandsPerConnect,
            scriptCalls: r.idle.redisScriptCallsPerConnect,
            syscalls: r.idle.syscallsPerConnect,
          },
      ),
      // All sockets dropped at once by their clients at the end of the run.
      ['CPU-ms / 1k disconnects: service', (r) => r.disconnects?.cpuPer1k?.service],
      ['  Redis', (r) => r.disconnects?.cpuPer1k?.redis],
    ],
  );
}

/**
 * The rows of what a scenario counted per `unit` (connect, user), from `counts(r)`: Redis commands
 * (INFO commandstats: a script call, and each command it runs, count one each) and the script calls
 * among them; read and write system calls of the service and of Redis (/proc/<pid>/io: a writev is
 * one write).
 */
function countRows(unit, counts) {
  return [
    [`Redis commands / ${unit}`, (r) => counts(r)?.commands],
    ['  of which script calls', (r) => counts(r)?.scriptCalls],
    [`service writes / ${unit}`, (r) => counts(r)?.syscalls?.service.writes],
    ['  reads', (r) => counts(r)?.syscalls?.service.reads],
    [`Redis writes / ${unit}`, (r) => counts(r)?.syscalls?.redis.writes],
    ['  reads', (r) => counts(r)?.syscalls?.redis.reads],
  ];
}

export function printFanout(results, users) {
  sideBySide(
    `FAN-OUT — one notification to ${fmt(users)} users (ms from enqueue; ours/x < 1 is better)`,
    results,
    [
      ['users reached', (r) => r.fanout?.received],
      ['duplicates', (r) => r.fanout?.duplicates],
      ['first socket (ms)', (r) => r.fanout?.firstMs],
      ['median socket (ms)', (r) => r.fanout?.latency.p50],
      ['last socket (ms)', (r) => r.fanout?.lastMs],
      ['CPU-ms / 1k users: service', (r) => r.fanout?.cpuPer1kUsers?.service],
      ['  Redis', (r) => r.fanout?.cpuPer1kUsers?.redis],
      ['  clients (load)', (r) => r.fanout?.cpuPer1kUsers?.clients],
      ...countRows(
        'user',
        (r) =>
          r.fanout && {
            commands: r.fanout.redisCommandsPerUser,
            scriptCalls: r.fanout.redisScriptCallsPerUser,
            syscalls: r.fanout.syscallsPerUser,
          },
      ),
    ],
  );
}

/** The longest event-loop stall of the two load processes during a step, in ms. */
const loadStallMs = (s) =>
  s.loadStalls
    ? Math.max(s.loadStalls.producer.loopDelayMaxMs, s.loadStalls.clients.loopDelayMaxMs)
    : null;

const verdictText = { ok: 'ok', slow: `p99>${HEADLINE_P99_MS}`, saturated: 'SATURATED' };

export function printSteady(results) {
  const names = Object.keys(results).filter((n) => results[n].steady);
  if (names.length === 0) return;
  for (const name of names) {
    const rows = results[name].steady.map((s) => [
      `${fmt(s.rate)}${s.probe ? ' (probe)' : ''}`,
      s.sent,
      s.received,
      s.lost,
      s.duplicates,
      s.latency.p50,
      s.latency.p99,
      s.latency.max,
      s.cpuMsPer1k.service,
      s.cpuMsPer1k.redis,
      s.cpuMsPer1k.producer,
      s.cpuMsPer1k.clients,
      s.runQueueWait?.service.msPerSecond ?? null,
      s.runQueueWait?.redis.msPerSecond ?? null,
      s.otherCores,
      loadStallMs(s),
      verdictText[s.verdict] + (s.producerBehind ? ', load behind' : ''),
    ]);
    printTable(
      `STEADY — ${results[name].label}: open-loop steps (latency ms, enqueue → receive; CPU-ms per 1,000 notifications; svc wait, redis wait = ms per second their main thread was ready to run but had no CPU; other load = cores used by the rest of the machine; load stall = longest event-loop stall of the load processes, ms)`,
      [
        'rate/s',
        'sent',
        'received',
        'lost',
        'dup',
        'p50',
        'p99',
        'max',
        'cpu svc',
        'cpu redis',
        'cpu prod',
        'cpu clients',
        'svc wait',
        'redis wait',
        'other load',
        'load stall',
        'verdict',
      ],
      rows,
    );
  }
  const rates = [
    ...new Set(names.flatMap((n) => results[n].steady.filter((s) => !s.probe).map((s) => s.rate))),
  ].sort((a, b) => a - b);
  const at = (name, rate) => results[name]?.steady?.find((s) => s.rate === rate && !s.probe);
  const others = names.filter((n) => n !== 'ours');
  const withOurs = names.includes('ours');
  const compare = (title, pick) =>
    printTable(
      title,
      ['rate/s', ...names, ...(withOurs ? others.map((o) => `ours/${o}`) : [])],
      rates.map((rate) => [
        fmt(rate),
        ...names.map((n) => {
          const s = at(n, rate);
          return s ? `${fmt(pick(s))}${s.lost > 0 ? ` (lost ${fmt(s.lost)})` : ''}` : dash;
        }),
        ...(withOurs
          ? others.map((o) => {
              const a = at('ours', rate);
              const b = at(o, rate);
              return fmtRatio(a && b ? ratio(pick(a), pick(b)) : null);
            })
          : []),
      ]),
    );
  compare('STEADY — p99 latency (ms) side by side (ours/x < 1 is better)', (s) => s.latency.p99);
  compare(
    'STEADY — CPU-ms per 1,000 notifications, service + redis (ours/x < 1 is better)',
    (s) => s.cpuMsPer1k.service + s.cpuMsPer1k.redis,
  );
  compare(
    'STEADY — system calls per notification, service + redis, reads and writes (/proc/<pid>/io; ours/x < 1 is better)',
    (s) =>
      s.syscallsPerNotification &&
      ['service', 'redis'].reduce(
        (sum, k) => sum + s.syscallsPerNotification[k].reads + s.syscallsPerNotification[k].writes,
        0,
      ),
  );
}

export function printHeadline(results, holdMs) {
  sideBySide(
    `HEADLINE — highest rate held ${holdMs / 1000} s with p99 ≤ ${HEADLINE_P99_MS} ms and nothing lost (ours/x > 1 is better)`,
    results,
    [
      ['rate held (/s)', (r) => r.headline?.rate],
      ['p50 (ms)', (r) => r.headline?.step?.latency.p50],
      ['p99 (ms)', (r) => r.headline?.step?.latency.p99],
      ['max (ms)', (r) => r.headline?.step?.latency.max],
      ['lost', (r) => r.headline?.step?.lost],
      ['CPU-ms/1k service', (r) => r.headline?.step?.cpuMsPer1k.service],
      ['CPU-ms/1k redis', (r) => r.headline?.step?.cpuMsPer1k.redis],
      ['other load (cores)', (r) => r.headline?.step?.otherCores],
      ['load stall (ms)', (r) => r.headline?.step && loadStallMs(r.headline.step)],
    ],
  );
  const tried = Object.entries(results).filter(([, r]) => r.headline?.attempts);
  if (tried.length > 0) {
    printTable(
      'HEADLINE — holds tried, in order (rate/s: p99 ms, ✓ held)',
      ['', 'holds'],
      tried.map(([name, r]) => [
        name,
        r.headline.attempts
          .map((a) => `${fmt(a.rate)}: ${fmt(a.p99)} ${a.verdict === 'ok' ? '✓' : '✗'}`)
          .join('   '),
      ]),
    );
  }
}

/** The issue's targets, evaluated on this run (printed, never asserted). */
export function targets(results, memory) {
  const ours = results.ours;
  const head = ours?.headline?.rate;
  const p99At1k = ours?.steady?.find((s) => s.rate === 1000 && !s.probe)?.latency.p99;
  const perSocket = ours?.idle?.rssPerSocketKiB;
  const check = (value, ok) => (value === null || value === undefined ? dash : ok ? '✓' : '✗');
  const vsPeer = ratio(head, results.socketio?.headline?.rate);
  const vsNaive = ratio(head, results.naive?.headline?.rate);
  return [
    {
      target: 'headline ≥ 20,000/s at p99 ≤ 50 ms, history on',
      value: head ?? null,
      ok: check(head, head >= 20_000),
    },
    {
      target: 'headline ≥ 8× the peer stack (socketio)',
      value: vsPeer,
      ok: check(vsPeer, vsPeer >= 8),
    },
    {
      target: 'headline ≥ 5× the naive reference',
      value: vsNaive,
      ok: check(vsNaive, vsNaive >= 5),
    },
    { target: 'p99 ≤ 10 ms at 1,000/s', value: p99At1k ?? null, ok: check(p99At1k, p99At1k <= 10) },
    {
      target: '≤ 12 KiB RSS per idle authenticated socket',
      value: perSocket ?? null,
      ok: check(perSocket, perSocket <= 12),
    },
    {
      target: 'Redis ≤ 2× payload bytes per stored notification',
      value: memory?.perNotification
        ? ratio(memory.perNotification.usedMemory, memory.payloadBytes)
        : null,
      ok: check(
        memory?.perNotification,
        memory?.perNotification?.usedMemory <= 2 * memory?.payloadBytes,
      ),
    },
  ];
}

export function printTargets(rows) {
  printTable(
    'TARGETS (ours; printed, not asserted)',
    ['target', 'measured', ''],
    rows.map((r) => [
      r.target,
      typeof r.value === 'number' && r.target.includes('×') ? `${r.value}×` : fmt(r.value),
      r.ok,
    ]),
  );
}

const share = (part, whole) => (whole > 0 ? `${Math.round((part / whole) * 100)} %` : dash);

/** CPU per notification by component, for each system that ran the breakdown step. */
export function printBreakdown(results) {
  for (const [name, r] of Object.entries(results)) {
    const b = r.breakdown;
    if (!b) continue;
    const la = b.step.loadAverage ?? null;
    const rows = [];
    // Durations are wall time: on a busy machine they include preemption, so each part is stated as
    // its share of the command time and, when they add up to more, scaled to the process's CPU.
    const commandsMs = Object.values(b.redisCommands).reduce((sum, v) => sum + v.usec, 0) / 1000;
    const redisScale = commandsMs > b.redisCpuMsPer1k ? b.redisCpuMsPer1k / commandsMs : 1;
    for (const [part, v] of Object.entries(b.redisCommands)) {
      const ms = v.usec / 1000;
      rows.push([`redis: ${part}`, ms * redisScale, v.calls, share(ms, commandsMs)]);
    }
    // On a cluster the store publishes with sharded pub/sub (SPUBLISH).
    const stats = b.step.redisUsecPer1k ?? {};
    const publishCommand = stats.publish ? 'publish' : 'spublish';
    const publish = stats[publishCommand];
    if (publish) {
      const ms = publish.usec / 1000;
      rows.push([
        `  of which ${publishCommand} (in our script; commandstats)`,
        ms * redisScale,
        publish.calls,
        share(ms, commandsMs),
      ]);
    }
    if (redisScale === 1)
      rows.push([
        'redis: I/O, event loop (process CPU − commands)',
        b.redisCpuMsPer1k - commandsMs,
        null,
        dash,
      ]);
    rows.push(['redis total (process CPU)', b.redisCpuMsPer1k, null, dash]);
    if (b.service) {
      const total = b.service.totalPer1k;
      const scale = total > 0 ? b.serviceCpuMsPer1k / total : 1;
      for (const [part, ms] of Object.entries(b.service.parts))
        rows.push([`service: ${part}`, ms * scale, null, share(ms, total)]);
    }
    rows.push(['service total (process CPU)', b.serviceCpuMsPer1k, null, dash]);
    printTable(
      `BREAKDOWN — ${name} at ${fmt(b.rate)}/s (p99 ${fmt(b.step.latency.p99)} ms, load average ${fmt(la)}): CPU-ms per 1,000 notifications by component (Redis: its slow log at 0 µs and INFO commandstats; the service: --cpu-prof cut to this step; parts scaled to the process CPU)`,
      ['component', 'CPU-ms/1k', 'calls/1k', 'share'],
      rows,
    );
  }
}

/** Every table of a run (as written to results/*.json). */
export function printRun(run) {
  const { options: o, results } = run;
  const scenarios = new Set(o.scenarios);
  console.log(
    `\nbench ${run.startedAt} (${o.profile}) — ${run.machine.cpus} cores, everything on this machine`,
  );
  if (run.memory?.error) console.log(`  memory: FAILED: ${run.memory.error}`);
  for (const [name, r] of Object.entries(results))
    console.log(`  ${name}: ${r.label}${r.error ? `  FAILED: ${r.error}` : ''}`);
  if (run.memory && !run.memory.error) printMemory(run.memory);
  if (scenarios.has('idle')) printIdle(results, o.sockets);
  if (scenarios.has('fanout')) printFanout(results, o.sockets);
  if (scenarios.has('steady')) printSteady(results);
  if (scenarios.has('headline')) printHeadline(results, o.headlineMs);
  if (scenarios.has('breakdown')) printBreakdown(results);
  printTargets(run.targets);
}

/** Writes results/<timestamp>.json and results/latest.json; returns the first path. */
export function writeResults(directory, report) {
  mkdirSync(directory, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const path = new URL(`${stamp}.json`, directory);
  writeFileSync(path, json);
  writeFileSync(new URL('latest.json', directory), json);
  return path.pathname;
}

/** The memory scenario's figures (see memory.mjs): bytes per stored notification. */
export function printMemory(m) {
  const limit = `HISTORY_LIMIT ${fmt(m.historyLimit)}${m.historyLimitIsDefault ? ' (default)' : ''}`;
  const times = (bytes) => (m.payloadBytes > 0 ? `${fmt(ratio(bytes, m.payloadBytes))}×` : dash);
  printTable(
    `MEMORY — ${fmt(m.notifications)} notifications (${fmt(m.users)} users × ${fmt(m.perUser)}), ` +
      `${fmt(m.held)} held in the history (${limit})` +
      `${m.dedupeKeys ? ', each with a producer dedupeKey of 14 characters' : ''}; bytes`,
    ['', 'bytes', '× payload'],
    [
      ['payload (its JSON)', m.payloadBytes, '1×'],
      [
        'stored entry (the history list entry of one)',
        m.storedEntryBytes,
        times(m.storedEntryBytes),
      ],
      [
        'used_memory delta per held notification',
        m.perNotification.usedMemory,
        times(m.perNotification.usedMemory),
      ],
      [
        '  the same without client buffers',
        m.perNotification.withoutClients,
        times(m.perNotification.withoutClients),
      ],
      [
        '  MEMORY USAGE of all history keys / held',
        m.perNotification.keys,
        times(m.perNotification.keys),
      ],
      [
        `BullMQ completed job record (${fmt(m.jobs.completedRecords)} kept), used_memory each`,
        m.jobs.usedMemoryPerRecord,
        dash,
      ],
      ['  MEMORY USAGE of the queue keys / record', m.jobs.keysPerRecord, dash],
      ['  left in the queue keys after removing them (bytes)', m.jobs.leftBytes, dash],
    ],
  );
  const held = Math.min(m.perUser, m.historyLimit);
  printTable(
    `MEMORY — one user's keys (u0, ${fmt(held)} notifications), MEMORY USAGE SAMPLES 0`,
    ['key', 'type', 'encoding', 'entries', 'bytes', 'per notification'],
    [
      ...m.oneUser.map((k) => [k.key, k.type, k.encoding, k.entries, k.bytes, k.perNotification]),
      [
        'all',
        '',
        '',
        '',
        m.oneUser.reduce((sum, k) => sum + k.bytes, 0),
        Math.round((m.oneUser.reduce((sum, k) => sum + k.bytes, 0) / held) * 10) / 10,
      ],
    ],
  );
}
