import type { Cluster, Redis } from 'ioredis';
import { RedisKeys } from './redis-keys.js';

/*
 * How specs read a user's dedupe index: through this one function only, so that a change of the
 * index's layout changes it here alone. Test-only: tsconfig.build.json leaves *-spec-kit.ts out of
 * the package.
 */

/**
 * The dedupe keys in `userId`'s index under `keyPrefix`, sorted. Today the index is the HASH `d`
 * (key → id) and the ZSET `dz` (seq → key): a key counts as present while it is in either, so a
 * release must remove it from both.
 */
export async function dedupeKeysOf(
  redis: Redis | Cluster,
  keyPrefix: string,
  userId: string,
  cluster = false,
): Promise<string[]> {
  const k = new RedisKeys(keyPrefix, cluster).forUser(userId);
  const [byKey, bySeq] = await Promise.all([
    redis.hkeys(k.dedupe),
    redis.zrange(k.dedupeBySeq, 0, -1),
  ]);
  return [...new Set([...byKey, ...bySeq])].sort();
}
