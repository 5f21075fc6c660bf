import type { TestProject } from 'vitest/node';
import { startRedis, type RedisServer } from './redis.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let redis: RedisServer | undefined;

/** One private `redis-server` on a free port for the whole run; suites isolate by key prefix. */
export async function setup(project: TestProject): Promise<void> {
  // Fails saying how to install redis-server when there is none on the PATH.
  redis = await startRedis();
  project.provide('redisUrl', redis.url);
}

export async function teardown(): Promise<void> {
  await redis?.stop();
}
