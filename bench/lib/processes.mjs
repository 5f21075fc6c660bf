import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './clock.mjs';

/** Every child the bench started; all of them are killed when the bench ends, however it ends. */
const children = new Set();

process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Starts `command args` as a tracked child, with its open-file limit raised as far as allowed
 * (10,000 sockets need more than the usual 1,024). `ipc` adds a Node IPC channel (Node children).
 * Output is kept (the last 64 KiB) for error messages.
 */
export function startChild(name, command, args, { env = {}, ipc = false } = {}) {
  const raise = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"';
  const child = spawn('/bin/sh', ['-c', raise, 'sh', command, ...args], {
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])],
  });
  children.add(child);
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-65_536);
    if (process.env.BENCH_VERBOSE) process.stderr.write(`[${name}] ${chunk}`);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.once('exit', () => children.delete(child));
  return {
    name,
    child,
    pid: child.pid,
    output: () => output,
    /** Resolves once the output contains `text`; rejects if the child exits or `timeoutMs` passes. */
    waitFor(text, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const done = (error) => {
          clearTimeout(timer);
          child.stdout.off('data', check);
          child.off('exit', exited);
          if (error) reject(error);
          else resolve();
        };
        const check = () => output.includes(text) && done();
        const exited = (code, signal) =>
          done(new Error(`${name} exited (${code ?? signal}) before "${text}":\n${output}`));
        const timer = setTimeout(
          () => done(new Error(`${name}: no "${text}" within ${timeoutMs} ms:\n${output}`)),
          timeoutMs,
        );
        child.stdout.on('data', check);
        child.once('exit', exited);
        check();
      });
    },
    /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Kills every child still running (SIGTERM, then SIGKILL). */
export async function stopAll(graceMs = 3_000) {
  const running = [...children];
  for (const child of running) child.kill('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && running.some((c) => c.exitCode === null && c.signalCode === null))
    await sleep(50);
  for (const child of running)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** A throwaway `redis-server` on 127.0.0.1, nothing persisted (as `startLocalRedis` in src/). */
export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'notif-bench-redis-'));
  const redis = startChild('redis-server', 'redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ]);
  redis.child.once('error', () => {});
  await redis.waitFor('Ready to accept connections', 10_000);
  const stop = redis.stop;
  redis.stop = async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  };
  redis.url = `redis://127.0.0.1:${port}`;
  return redis;
}

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

/** Resident set size of `pid` in KiB (VmRSS from /proc/<pid>/status). */
export function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
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
