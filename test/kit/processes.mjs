import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Every process started here; whatever still runs when this process exits is killed with it. */
const children = new Set();

process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** A port of 127.0.0.1 that nothing listens on (now). */
export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** Raises the open-file limit as far as allowed, then runs the command in place of the shell. */
const RAISE_FILE_LIMIT =
  'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"';

/**
 * Starts `command args` as a child that is killed when this process exits, with only PATH,
 * NO_COLOR=1 and `env` in its environment, and keeps its output (stdout and stderr, the last
 * 256 KiB) for `waitFor` and error messages.
 */
export function startProcess(name, command, args, options = {}) {
  const { env = {}, cwd, ipc = false, raiseFileLimit = false, echo = false } = options;
  const [file, argv] = raiseFileLimit
    ? ['/bin/sh', ['-c', RAISE_FILE_LIMIT, 'sh', command, ...args]]
    : [command, args];
  const child = spawn(file, argv, {
    cwd,
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-262_144);
    if (echo) process.stderr.write(`[${name}] ${chunk}`);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const started = new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  started.catch(() => undefined); // reported by waitFor
  child.on('error', () => undefined);
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    name,
    process: child,
    pid: child.pid,
    output: () => output,
    /** Resolves once the output holds `text`; rejects if the process ends or `timeoutMs` passes. */
    waitFor(text, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const done = (error) => {
          clearTimeout(timer);
          child.stdout.off('data', check);
          child.stderr.off('data', check);
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
        child.stderr.on('data', check);
        child.once('exit', exited);
        started.catch(done);
        if (gone()) exited(child.exitCode, child.signalCode);
        else check();
      });
    },
    /** Resolves with the exit code once the process has ended by itself (null: by a signal). */
    async exited() {
      if (!gone()) await once(child, 'exit');
      return child.exitCode;
    },
    /**
     * Sends `signal`, and SIGKILL when the process is still there after `graceMs`; resolves with
     * the exit code once it is gone (null when a signal ended it).
     */
    async stop(signal = 'SIGTERM', graceMs = 30_000) {
      if (gone() || child.pid === undefined) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      return child.exitCode;
    },
  };
}

/** Stops every process still running (SIGTERM, then SIGKILL after `graceMs`). */
export async function stopAll(graceMs = 3_000) {
  const running = [...children];
  for (const child of running) child.kill('SIGTERM');
  const deadline = Date.now() + graceMs;
  const alive = () => running.filter((c) => c.exitCode === null && c.signalCode === null);
  while (Date.now() < deadline && alive().length > 0) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  for (const child of alive()) child.kill('SIGKILL');
}

function childPids(pid) {
  const pids = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) pids.push(...text.split(' ').map(Number));
    }
  } catch {
    // gone meanwhile
  }
  return pids;
}

function ownRssKiB(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]);
}

/**
 * Resident set size of process `pid` and all its descendants, in KiB (VmRSS from /proc). Throws
 * when `pid` itself is gone; a descendant that ends meanwhile counts 0. Linux only.
 */
export function rssKiB(pid) {
  let total = ownRssKiB(pid);
  const pending = childPids(pid);
  while (pending.length > 0) {
    const next = pending.pop();
    try {
      total += ownRssKiB(next);
    } catch {
      continue;
    }
    pending.push(...childPids(next));
  }
  return total;
}
