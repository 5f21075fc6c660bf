import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU time from /proc, for the cost per notification of each process. Starting processes, ports,
 * Redis and RSS come from the shared test kit (test/kit/).
 */

export const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU time of `pid` so far, in ms (from /proc/<pid>/stat; 0 when it is gone). */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, utime field 14, stime field 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * Read and write system calls of `pid` so far (`syscr`, `syscw` of /proc/<pid>/io; a `writev`
 * counts one write): counts that the machine's load moves far less than CPU time. Zeros when the
 * process is gone or the file unreadable.
 */
export function syscalls(pid) {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (name) => Number(io.match(new RegExp(`^${name}: (\\d+)$`, 'm'))?.[1] ?? 0);
    return { reads: field('syscr'), writes: field('syscw') };
  } catch {
    return { reads: 0, writes: 0 };
  }
}

/**
 * How long the main thread of `pid` has waited so far for a CPU while it was ready to run, in ms,
 * and how many times it was put on one (`/proc/<pid>/schedstat`: its run-queue delay and its count
 * of time slices). A process whose event loop had work but no core adds to every latency it
 * measures or causes: on a machine this small, much of a low-load tail. Zeros when it is gone.
 */
export function runQueueWait(pid) {
  try {
    const [, waitNs, slices] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ');
    return { ms: Number(waitNs) / 1e6, slices: Number(slices) };
  } catch {
    return { ms: 0, slices: 0 };
  }
}

/** CPU time the whole machine spent busy so far (all cores, from /proc/stat), in ms. */
export function machineBusyMs() {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal …: everything but idle and iowait is busy.
  const busy = ticks
    .slice(0, 8)
    .map(Number)
    .reduce((sum, value, i) => (i === 3 || i === 4 ? sum : sum + value), 0);
  return (busy * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Resolves once the processes `pids` together spent at most `maxBusyMs` of CPU in a window of
 * `windowMs` (their work is done), or after `timeoutMs`; with how long it took, in ms.
 */
export async function untilQuiet(
  pids,
  { windowMs = 200, maxBusyMs = 10, timeoutMs = 20_000 } = {},
) {
  const started = Date.now();
  const busy = () => pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  let before = busy();
  while (Date.now() - started < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const now = busy();
    if (now - before <= maxBusyMs) break;
    before = now;
  }
  return Date.now() - started;
}
