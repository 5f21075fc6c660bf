import type { StartedProcess } from './processes.mjs';

/** The built service, as `npm run build` leaves it. */
export const SERVICE_MAIN: string;

export interface ServiceOptions {
  /** The entry file; dist/src/main.js by default. */
  main?: string;
  /** The name in error messages. */
  name?: string;
  raiseFileLimit?: boolean;
  /** How long `startService` waits for "listening on" (60 s). */
  timeoutMs?: number;
}

export interface ServiceProcess extends StartedProcess {
  port: number;
  httpUrl: string;
  wsUrl: string;
}

/** Runs the built service as its own process, without waiting for it. */
export function runService(
  env: Record<string, string | undefined>,
  options?: ServiceOptions,
): StartedProcess;

/** Starts the built service on `env.PORT` (a free port by default) once it listens. */
export function startService(
  env: Record<string, string | undefined>,
  options?: ServiceOptions,
): Promise<ServiceProcess>;

/** Runs the built service expecting it to exit by itself; resolves with its code and output. */
export function runToExit(
  env: Record<string, string | undefined>,
  options?: ServiceOptions,
): Promise<{ code: number | null; output: string }>;
