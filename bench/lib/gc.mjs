/**
 * What V8's garbage collector did in a window of a process run with `--trace-gc-nvp` (one line per
 * collection, `<n> ms: pause=… gc=s|mc … allocated=… promoted=…`, n counted from the isolate's
 * start): how much the program allocated, and the collections that it cost.
 */

/** The GC lines among `output`'s, with their time (ms since the isolate started). */
export function gcLines(output) {
  const lines = [];
  for (const line of output.split('\n')) {
    const m = /(\d+) ms: pause=([\d.]+) .*?gc=(s|mc|mmc) /.exec(line);
    if (!m) continue;
    const field = (name) => Number(new RegExp(` ${name}=([\\d.]+)`).exec(line)?.[1] ?? 0);
    lines.push({
      at: Number(m[1]),
      pause: Number(m[2]),
      kind: m[3] === 's' ? 'scavenge' : 'markCompact',
      allocated: field('allocated'),
      promoted: field('promoted'),
      survived: field('new_space_survived'),
    });
  }
  return lines;
}

/**
 * The collections from `fromMs` to `toMs` (the isolate's clock), per `units` (say 1,000 jobs):
 * bytes allocated (each collection counts what was allocated since the one before), scavenges and
 * their pauses, bytes promoted to the old generation, mark-compacts and their pauses (the final
 * pause only: the incremental marking before it runs in steps between tasks).
 */
export function gcPer(lines, fromMs, toMs, units) {
  const window = lines.filter((l) => l.at >= fromMs && l.at <= toMs);
  const sum = (list, pick) => list.reduce((total, l) => total + pick(l), 0);
  const scavenges = window.filter((l) => l.kind === 'scavenge');
  const markCompacts = window.filter((l) => l.kind === 'markCompact');
  const per = (value, digits = 1) => Number((value / units).toFixed(digits));
  const kib = (bytes) => bytes / 1024;
  return {
    allocatedKiB: per(kib(sum(window, (l) => l.allocated))),
    scavenges: per(scavenges.length, 2),
    scavengeMs: per(
      sum(scavenges, (l) => l.pause),
      2,
    ),
    survivedKiB: per(kib(sum(scavenges, (l) => l.survived))),
    promotedKiB: per(kib(sum(scavenges, (l) => l.promoted))),
    markCompacts: per(markCompacts.length, 3),
    markCompactMs: per(
      sum(markCompacts, (l) => l.pause),
      2,
    ),
  };
}
