import type { Cluster, Redis } from 'ioredis';
import { RedisKeys } from './redis-keys.js';

/*
 * How specs read a user's dedupe index: through this one function only, so that a change of the
 * index's layout changes it here alone. Test-only: tsconfig.build.json leaves *-spec-kit.ts out of
 * the package.
 */

/** The dedupe keys in `userId`'s index (the ZSET `k`: key → seq) under `keyPrefix`, sorted. */
export async function dedupeKeysOf(
  redis: Redis | Cluster,
  keyPrefix: string,
  userId: string,
  cluster = false,
): Promise<string[]> {
  const k = new RedisKeys(keyPrefix, cluster).forUser(userId);
  return (await redis.zrange(k.dedupe, 0, -1)).sort();
}
