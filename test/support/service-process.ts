import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { freePort } from '../../src/redis/local-redis.js';

const MAIN = 'dist/src/main.js';

export interface ServiceProcess {
  process: ChildProcess;
  port: number;
  httpUrl: string;
  wsUrl: string;
  output(): string;
  /** Sends `signal` and resolves with the exit code once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function ensureBuilt(): void {
  if (!existsSync(MAIN))
    throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
}

/** Runs the built service (`node dist/src/main.js`) as its own process. */
export function runService(env: Record<string, string>): {
  process: ChildProcess;
  output: () => string;
} {
  ensureBuilt();
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { process: child, output: () => output };
}

/** Starts the built service on a free port and waits until it logs that it listens. */
export async function startService(
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<ServiceProcess> {
  const port = Number(env.PORT ?? (await freePort()));
  const { process: child, output } = runService({ ...env, PORT: String(port) });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`service did not start:\n${output()}`)),
      timeoutMs,
    );
    const check = () => {
      if (output().includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}:\n${output()}`));
    });
  });
  return {
    process: child,
    port,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill(signal);
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

/** Runs the built service expecting it to exit by itself; resolves with its code and output. */
export async function runToExit(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const { process: child, output } = runService(env);
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output: output() };
}
