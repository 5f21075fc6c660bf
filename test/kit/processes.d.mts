import type { ChildProcess } from 'node:child_process';

/** A port of 127.0.0.1 that nothing listens on (now). */
export function freePort(): Promise<number>;

export interface StartProcessOptions {
  /** Added to PATH and NO_COLOR=1: nothing else of this process's environment is passed on. */
  env?: Record<string, string | undefined>;
  /** Its working directory (this process's by default). */
  cwd?: string;
  /** Adds a Node IPC channel (for Node children). */
  ipc?: boolean;
  /** Raises the open-file limit as far as allowed first (10,000 sockets need more than 1,024). */
  raiseFileLimit?: boolean;
  /** Copies the output to stderr, each chunk prefixed with the name. */
  echo?: boolean;
}

export interface StartedProcess {
  name: string;
  process: ChildProcess;
  pid: number | undefined;
  /** stdout and stderr so far (the last 256 KiB). */
  output: () => string;
  /** Resolves once the output holds `text`; rejects if the process ends or `timeoutMs` passes. */
  waitFor: (text: string, timeoutMs?: number) => Promise<void>;
  /** Resolves with the exit code once the process has ended by itself (null: by a signal). */
  exited: () => Promise<number | null>;
  /** `signal` (SIGTERM), SIGKILL after `graceMs` (30 s); resolves with the exit code once gone. */
  stop: (signal?: NodeJS.Signals, graceMs?: number) => Promise<number | null>;
}

/** Starts a child that is killed when this process exits, and keeps its output. */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  options?: StartProcessOptions,
): StartedProcess;

/** Stops every process still running (SIGTERM, then SIGKILL after `graceMs`). */
export function stopAll(graceMs?: number): Promise<void>;

/** Resident set size of process `pid` and all its descendants, in KiB. Throws when `pid` is gone. */
export function rssKiB(pid: number): number;
