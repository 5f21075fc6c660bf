/*
 * The presence ZSET of one user (RedisKeys.forUser(userId).presence): member = a gateway's instance
 * id, score = the deadline (epoch ms) until which that gateway vouches for a socket of the user.
 * The user is online iff some score is greater than now (`ZCOUNT key (now +inf`). The key expires at
 * its latest deadline, so the entries of a gateway that died leave nothing behind.
 */

/**
 * KEYS: the presence of one user or more. ARGV: instanceId, deadline, now. Sets this gateway's entry
 * in each, drops entries that lapsed (gateways gone without a goodbye), and expires each key at its
 * latest deadline. Returns how many keys it refreshed.
 */
export const PRESENCE_REFRESH_SCRIPT = `
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, ARGV[2], ARGV[1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[3])
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIREAT', key, last[2]) end
end
return #KEYS
`;

/**
 * KEYS: the presence of one user or more. ARGV: instanceId. Removes this gateway's entry from each;
 * a key then expires at the latest deadline left (Redis deletes it when none is). Returns how many
 * entries it removed.
 */
export const PRESENCE_LEAVE_SCRIPT = `
local removed = 0
for _, key in ipairs(KEYS) do
  if redis.call('ZREM', key, ARGV[1]) == 1 then
    removed = removed + 1
    local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
    if last[2] then redis.call('PEXPIREAT', key, last[2]) end
  end
end
return removed
`;
