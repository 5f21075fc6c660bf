import { NEXT_SEQ_LUA, USER_KEY_ORDER } from './lua-scripts.js';

/*
 * The store's scripts as they run on a Redis Cluster. Two mechanical changes, made here and nowhere
 * else, so that the scripts themselves stay one text for both modes:
 *
 * - `PUBLISH` becomes `SPUBLISH` (sharded pub/sub): the user's channel shares the user's hash tag, so
 *   it lives on the shard that runs the script and the message touches only that shard.
 * - The next sequence number is fenced per master. Replication is asynchronous: a master may die
 *   after it issued (and published) ids that never reached its replica. The first store for a user on
 *   another node (a promoted replica, or the new owner of a migrated slot) therefore skips
 *   `SEQ_FENCE` numbers, so that an id a client may already have seen is never issued again for a
 *   different notification. The append's own `nextSeq` (NEXT_SEQ_LUA) is replaced by one that
 *   writes the number it issues at once (the append writes it again, the same, with its counts).
 */

/** How many sequence numbers a user's history skips when it is first written on another node. */
export const SEQ_FENCE = 1_000_000;

const PUBLISH_CALL = /redis\.call\('PUBLISH',/g;

/** The user's meta hash among the scripts' KEYS (see lua-scripts.ts). */
const META = `KEYS[${USER_KEY_ORDER.indexOf('m') + 1}]`;

const NEXT_SEQ = `
local function nextSeq()
  local node = redis.call('CLUSTER', 'MYID')
  local meta = redis.call('HMGET', ${META}, 'node', 'seq')
  if meta[1] == node then return redis.call('HINCRBY', ${META}, 'seq', 1) end
  redis.call('HSET', ${META}, 'node', node)
  if not meta[2] then return redis.call('HINCRBY', ${META}, 'seq', 1) end
  return redis.call('HINCRBY', ${META}, 'seq', ${SEQ_FENCE})
end
`;

/** Counts of what `forCluster` replaced, so a test can tell when a script changed under it. */
export interface ClusterScriptChanges {
  publishes: number;
  sequences: number;
}

export function clusterScriptChanges(lua: string): ClusterScriptChanges {
  return {
    publishes: lua.match(PUBLISH_CALL)?.length ?? 0,
    sequences: lua.split(NEXT_SEQ_LUA).length - 1,
  };
}

/** The cluster form of one of the store's scripts (see the top of this file). */
export function forCluster(lua: string): string {
  const published = lua.replace(PUBLISH_CALL, "redis.call('SPUBLISH',");
  return published.split(NEXT_SEQ_LUA).join(NEXT_SEQ);
}
