import type { TestProject } from 'vitest/node';
import { startLocalRedis, type LocalRedis } from '../../src/redis/local-redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let redis: LocalRedis | undefined;

/** One private `redis-server` on a free port for the whole run; suites isolate by key prefix. */
export async function setup(project: TestProject): Promise<void> {
  try {
    redis = await startLocalRedis();
  } catch (error) {
    throw new Error(
      `The tests need a redis-server binary on the PATH (they start their own on a free port).\n` +
        `Install it with: apt-get install -y redis-server   (macOS: brew install redis)\n` +
        `Cause: ${(error as Error).message}`,
    );
  }
  project.provide('redisUrl', redis.url);
}

export async function teardown(): Promise<void> {
  await redis?.stop();
}
