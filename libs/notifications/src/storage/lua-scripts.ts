import { PUBLISH_FRAME_LUA } from './channel-message.js';

/*
 * Each script touches the keys of one user only (see RedisKeys), so it runs atomically and in one
 * round trip. Stored notifications are JSON strings that begin with `{"createdAt":"<24-char ISO>"`, so
 * the age trim can read the time at a fixed offset without decoding.
 */

/** Shared by the scripts that trim: drop everything up to seq `trimTo` from every structure. */
const TRIM_UP_TO = `
local function trimUpTo(trimTo)
  if trimTo <= 0 then return end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', trimTo)
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', trimTo)
  local keys = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', trimTo)
  for i = 1, #keys, 500 do
    redis.call('HDEL', KEYS[4], unpack(keys, i, math.min(i + 499, #keys)))
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', trimTo)
end
`;

/**
 * KEYS: history, unread, meta, dedupe, dedupeBySeq.
 * ARGV: channel, type, payloadJson, dedupeKey, createdAt (ISO), historyLimit, cutoff (ISO or ''),
 *       epochCandidate, ttlSeconds (0 for none), enqueuedAt (epoch ms, carried to the gateways for the
 *       enqueue-to-push latency).
 * Returns {stored (1|0), id, unread}; publishes the notification frame (see channel-message.ts).
 */
export const APPEND_SCRIPT = `${TRIM_UP_TO}${PUBLISH_FRAME_LUA}
local epoch = redis.call('HGET', KEYS[3], 'epoch')
if not epoch then
  epoch = ARGV[8]
  redis.call('HSET', KEYS[3], 'epoch', epoch)
end
local dedupeKey = ARGV[4]
local existing = redis.call('HGET', KEYS[4], dedupeKey)
if existing then
  return {0, existing, redis.call('ZCARD', KEYS[2])}
end
local seq = redis.call('HINCRBY', KEYS[3], 'seq', 1)
local id = epoch .. '-' .. seq
local body = '{"createdAt":"' .. ARGV[5] .. '","id":"' .. id .. '","type":"' .. ARGV[2] .. '","payload":' .. ARGV[3]
redis.call('ZADD', KEYS[1], seq, body .. '}')
redis.call('ZADD', KEYS[2], seq, id)
redis.call('HSET', KEYS[4], dedupeKey, id)
redis.call('ZADD', KEYS[5], seq, dedupeKey)

local trimTo = 0
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[6])
if excess > 0 then
  local last = redis.call('ZRANGE', KEYS[1], excess - 1, excess - 1, 'WITHSCORES')
  trimTo = tonumber(last[2])
end
if ARGV[7] ~= '' then
  -- Oldest first, in chunks, up to the first entry that is young enough.
  local offset, young = 0, false
  while not young do
    local chunk = redis.call('ZRANGE', KEYS[1], offset, offset + 99, 'WITHSCORES')
    if #chunk == 0 then break end
    for i = 1, #chunk, 2 do
      if string.sub(chunk[i], 15, 38) < ARGV[7] then
        trimTo = math.max(trimTo, tonumber(chunk[i + 1]))
      else
        young = true
        break
      end
    end
    offset = offset + 100
  end
end
trimUpTo(trimTo)

local ttl = tonumber(ARGV[9])
if ttl > 0 then
  for i = 1, 5 do redis.call('EXPIRE', KEYS[i], ttl) end
end
local unread = redis.call('ZCARD', KEYS[2])
local version = redis.call('HINCRBY', KEYS[3], 'v', 1)
publishFrame(ARGV[1], epoch, version, id, ARGV[10], '{"event":"notification","data":{"notification":' .. body .. ',"read":false},"unread":' .. unread .. '}}')
return {1, id, unread}
`;

/**
 * KEYS: history, unread, meta. ARGV: sinceEpoch ('' = no resume), sinceSeq, epochCandidate,
 * ttlSeconds (0 for none).
 * Returns {epoch, seq, version, unread, truncated (1|0), members, readFlags}. The epoch is created
 * here when the user has none yet, so that even an empty history has a position to resume from.
 * `version` counts every message published on the user's channel, so a socket can drop what the
 * snapshot already covers.
 */
export const REPLAY_SCRIPT = `
local meta = redis.call('HMGET', KEYS[3], 'epoch', 'seq', 'v')
local epoch = meta[1]
if not epoch then
  epoch = ARGV[3]
  redis.call('HSET', KEYS[3], 'epoch', epoch)
  local ttl = tonumber(ARGV[4])
  if ttl > 0 then redis.call('EXPIRE', KEYS[3], ttl) end
end
local seq = tonumber(meta[2] or '0')
local version = tonumber(meta[3] or '0')
local unread = redis.call('ZCARD', KEYS[2])
if ARGV[1] == '' then
  return {epoch, seq, version, unread, 0, {}, {}}
end
local sinceSeq = tonumber(ARGV[2])
if ARGV[1] ~= epoch or sinceSeq > seq then
  return {epoch, seq, version, unread, 1, {}, {}}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local truncated
if #first == 0 then
  truncated = sinceSeq < seq
else
  truncated = sinceSeq + 1 < tonumber(first[2])
end
if truncated then
  return {epoch, seq, version, unread, 1, {}, {}}
end
local found = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. sinceSeq, '+inf', 'WITHSCORES')
local members, flags = {}, {}
for i = 1, #found, 2 do
  members[#members + 1] = found[i]
  flags[#flags + 1] = redis.call('ZSCORE', KEYS[2], epoch .. '-' .. found[i + 1]) and 0 or 1
end
return {epoch, seq, version, unread, 0, members, flags}
`;

/**
 * KEYS: history, unread, meta. ARGV: beforeEpoch ('' = newest page), beforeSeq, limit.
 * Returns {unread, members, readFlags, hasMore (1|0)}, newest first.
 */
export const LIST_SCRIPT = `
local epoch = redis.call('HGET', KEYS[3], 'epoch') or ''
local unread = redis.call('ZCARD', KEYS[2])
local max = '+inf'
if ARGV[1] ~= '' then
  if ARGV[1] ~= epoch then return {unread, {}, {}, 0} end
  max = '(' .. ARGV[2]
end
local limit = tonumber(ARGV[3])
local found = redis.call('ZREVRANGEBYSCORE', KEYS[1], max, '-inf', 'WITHSCORES', 'LIMIT', 0, limit + 1)
local members, flags = {}, {}
for i = 1, math.min(#found, limit * 2), 2 do
  members[#members + 1] = found[i]
  flags[#flags + 1] = redis.call('ZSCORE', KEYS[2], epoch .. '-' .. found[i + 1]) and 0 or 1
end
return {unread, members, flags, #found > limit * 2 and 1 or 0}
`;

/**
 * KEYS: unread, meta. ARGV: channel, 'all' | 'ids', ids...
 * Returns {removed, unread}; publishes the new count when it changed (see channel-message.ts).
 */
export const MARK_READ_SCRIPT = `${PUBLISH_FRAME_LUA}
local removed = 0
if ARGV[2] == 'all' then
  removed = redis.call('ZCARD', KEYS[1])
  redis.call('DEL', KEYS[1])
elseif #ARGV > 2 then
  removed = redis.call('ZREM', KEYS[1], unpack(ARGV, 3))
end
local unread = redis.call('ZCARD', KEYS[1])
if removed > 0 then
  local epoch = redis.call('HGET', KEYS[2], 'epoch') or ''
  local version = redis.call('HINCRBY', KEYS[2], 'v', 1)
  publishFrame(ARGV[1], epoch, version, '-', 0, '{"event":"unread","data":{"unread":' .. unread .. '}}')
end
return {removed, unread}
`;
