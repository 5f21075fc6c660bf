import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProcess } from './processes.mjs';

const INSTALL_REDIS =
  'A private redis-server is started from the PATH on a free port.\n' +
  'Install it with: apt-get install -y redis-server   (macOS: brew install redis)';

/**
 * Starts a throwaway `redis-server` from the PATH on 127.0.0.1 (a free port unless `port` is
 * given), keeping nothing on disk unless `appendonly` is asked for, under `wrapper` when given
 * (a command line such as valgrind's). `stop()` also removes its folder, unless `dir` was given.
 */
export async function startRedis(options = {}) {
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'notif-redis-'));
  mkdirSync(dir, { recursive: true });
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir];
  args.push('--appendonly', options.appendonly ? 'yes' : 'no');
  if (options.appendonly) args.push('--appendfsync', 'always');
  // A tool that runs the server (valgrind, say): its command line, the server's follows it.
  const [command, ...before] = options.wrapper ?? ['redis-server'];
  if (options.wrapper) before.push('redis-server');
  const redis = startProcess('redis-server', command, [...before, ...args]);
  try {
    await redis.waitFor('Ready to accept connections', 20_000);
  } catch (error) {
    if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    throw error?.code === 'ENOENT' ? new Error(INSTALL_REDIS) : error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: redis.pid,
    process: redis.process,
    output: redis.output,
    /** SIGKILL, as a crash would; keeps its folder (and AOF), to start it again on `port`. */
    async kill() {
      await redis.stop('SIGKILL');
    },
    async stop() {
      await redis.stop('SIGTERM', 10_000);
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
