/*
 * The presence ZSET of one user (RedisKeys.forUser(userId).presence): member = a gateway's instance
 * id, score = the deadline (epoch ms) until which that gateway vouches for a socket of the user.
 * The user is online iff some score is greater than now (`ZCOUNT key (now +inf`). The key expires at
 * its latest deadline, so the entries of a gateway that died leave nothing behind.
 */

/**
 * KEYS: presence. ARGV: instanceId, deadline, now. Sets this gateway's entry, drops entries that
 * lapsed (gateways gone without a goodbye), and expires the key at its latest deadline.
 */
export const PRESENCE_REFRESH_SCRIPT = `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
return 1
`;

/**
 * KEYS: presence. ARGV: instanceId. Removes this gateway's entry; the key then expires at the latest
 * deadline left (Redis deletes it when none is).
 */
export const PRESENCE_LEAVE_SCRIPT = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
return 1
`;
