import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

/**
 * Watches this process's own event loop and garbage collector, so that a load process can report
 * whether it stalled during a step (a stalled load generator would show as the system's latency).
 */
export function watchStalls() {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let gcMaxMs = 0;
  let gcTotalMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMaxMs = Math.max(gcMaxMs, entry.duration);
      gcTotalMs += entry.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    reset() {
      loop.reset();
      gcMaxMs = 0;
      gcTotalMs = 0;
    },
    /** Since the last reset: the longest event-loop delay and GC pause, and all GC time, in ms. */
    read() {
      return {
        loopDelayMaxMs: Math.round(loop.max / 1e5) / 10,
        gcMaxMs: Math.round(gcMaxMs * 10) / 10,
        gcTotalMs: Math.round(gcTotalMs),
      };
    },
  };
}
