import { existsSync } from 'node:fs';
import { freePort, startProcess } from './processes.mjs';

/** The built service, as `npm run build` leaves it. */
export const SERVICE_MAIN = 'dist/src/main.js';

function ensureBuilt(main) {
  if (!existsSync(main)) {
    throw new Error(`${main} is missing: run "npm run build" first (npm test does)`);
  }
}

/** Runs the built service (`node dist/src/main.js`) as its own process, without waiting for it. */
export function runService(env, options = {}) {
  const main = options.main ?? SERVICE_MAIN;
  ensureBuilt(main);
  return startProcess(options.name ?? 'service', process.execPath, [main], {
    env,
    raiseFileLimit: options.raiseFileLimit,
  });
}

/**
 * Starts the built service on `env.PORT` (a free port by default) and waits until it logs that it
 * listens.
 */
export async function startService(env, options = {}) {
  const port = Number(env.PORT ?? (await freePort()));
  const service = runService({ ...env, PORT: String(port) }, options);
  try {
    await service.waitFor('listening on', options.timeoutMs ?? 60_000);
  } catch (error) {
    await service.stop('SIGKILL');
    throw error;
  }
  return {
    ...service,
    port,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
  };
}

/** Runs the built service expecting it to exit by itself; resolves with its code and output. */
export async function runToExit(env, options = {}) {
  const service = runService(env, options);
  const code = await service.exited();
  return { code, output: service.output() };
}
