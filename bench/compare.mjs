#!/usr/bin/env node
/**
 * Before/after of one system across two bench runs:
 *   node bench/compare.mjs <before.json> [after.json = bench/results/latest.json] [--system ours]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fmt, printTable, ratio } from './lib/report.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { system: { type: 'string', default: 'ours' } },
});
if (positionals.length < 1) {
  console.error('usage: node bench/compare.mjs <before.json> [after.json] [--system ours]');
  process.exit(2);
}
const [beforePath, afterPath = new URL('./results/latest.json', import.meta.url).pathname] =
  positionals;
const load = (path) => JSON.parse(readFileSync(path, 'utf8'));
const before = load(beforePath);
const after = load(afterPath);
const a = before.results[values.system];
const b = after.results[values.system];
if (!a || !b) throw new Error(`"${values.system}" is not in both runs`);

const steadyAt = (r, rate) => r.steady?.find((s) => s.rate === rate && !s.probe);
const rows = [
  ['headline rate held (/s)', (r) => r.headline?.rate],
  ['headline p99 (ms)', (r) => r.headline?.step?.latency.p99],
  ['connects/s', (r) => r.idle?.connectsPerSecond],
  ['RSS per idle socket (KiB)', (r) => r.idle?.rssPerSocketKiB],
  ['fan-out: last socket (ms)', (r) => r.fanout?.lastMs],
];
const rates = [
  ...new Set([...(a.steady ?? []), ...(b.steady ?? [])].filter((s) => !s.probe).map((s) => s.rate)),
].sort((x, y) => x - y);
for (const rate of rates) {
  rows.push([`p99 at ${fmt(rate)}/s (ms)`, (r) => steadyAt(r, rate)?.latency.p99]);
  rows.push([
    `CPU-ms/1k at ${fmt(rate)}/s (svc+redis)`,
    (r) => {
      const s = steadyAt(r, rate);
      return s && s.cpuMsPer1k.service + s.cpuMsPer1k.redis;
    },
  ]);
}
printTable(
  `${values.system}: ${before.startedAt} (${before.commit ?? '?'}) → ${after.startedAt} (${after.commit ?? '?'})`,
  ['', 'before', 'after', 'after/before'],
  rows.map(([label, pick]) => {
    const x = pick(a) ?? null;
    const y = pick(b) ?? null;
    const r = ratio(y, x);
    return [label, x, y, r === null ? '—' : `${r}×`];
  }),
);
