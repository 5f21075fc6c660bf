import type { ChildProcess } from 'node:child_process';

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  pid: number | undefined;
  process: ChildProcess;
  output: () => string;
  /** SIGKILL, as a crash would; keeps its folder (and AOF), to start it again on `port`. */
  kill: () => Promise<void>;
  /** Stops it and removes its folder (unless the caller gave `dir`). */
  stop: () => Promise<void>;
}

export interface StartRedisOptions {
  /** The port (to start it again where it was); a free one by default. */
  port?: number;
  /** AOF with `appendfsync always`, so that a restart keeps everything acknowledged. */
  appendonly?: boolean;
  /** Its data folder (kept on stop); a temporary one by default. */
  dir?: string;
}

/** Starts a throwaway `redis-server` from the PATH on 127.0.0.1. */
export function startRedis(options?: StartRedisOptions): Promise<RedisServer>;
