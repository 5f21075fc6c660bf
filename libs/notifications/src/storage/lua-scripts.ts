import { PUBLISH_FRAME_LUA } from './channel-message.js';

/*
 * Each script touches the keys of one user only (see RedisKeys), so it runs atomically and in one
 * round trip. Every per-user script takes the same KEYS (USER_KEY_ORDER) and begins with the same
 * ARGV: channel, now (epoch ms), epochCandidate, ttlSeconds (0 for none).
 *
 * A user's data:
 * - h  ZSET seq → the stored notification's JSON, immutable. It begins with
 *      `{"createdAt":"<24-char ISO>"`, so the age trim reads the time at a fixed offset.
 * - u  ZSET seq → id of each notification that is unread and not archived (v1's unread count).
 * - n  ZSET seq → id of each notification that is unseen and not archived.
 * - a  ZSET seq → id of each archived notification.
 * - f  ZSET seq → `seq|bits|expires|category|collapseKey`, only for notifications that have a
 *      category, a collapse key or an expiry, or are archived. `bits` keep an archived one's state
 *      (1 = unread, 2 = unseen); otherwise u and n are the truth and bits are 0.
 * - c  HASH `u:<category>` / `n:<category>` → counts of u and n per category (no zero fields).
 * - e  ZSET expiresAt (ms) → seq of each notification that expires.
 * - cz ZSET collapseKey → seq of the newest notification with that key.
 * - m  HASH epoch, seq (last issued), v (channel messages published), t (trimmed up to this seq;
 *      absent in histories written before protocol 1.1), ne (the earliest expiry in e), cats (set
 *      once a notification had a category: c may hold counts), rm (set once one was collapsed or
 *      expired: dz may outgrow h). The two flags spare the common append two commands.
 * - d  HASH dedupe key → id; dz ZSET seq → dedupe key, to forget the keys of trimmed ones.
 *      A job's own attempt key (`j:<jobId>:<timestamp>[:i]`) is kept only until the job completes,
 *      when the worker releases it (NotificationStore.releaseDedupeKeys); the limit: a worker that
 *      lost its job's lock (blocked past lockDuration) while another completed the job could store
 *      it twice.
 */

/** The KEYS of every per-user script, in this order. */
export const USER_KEY_ORDER = ['h', 'u', 'm', 'd', 'dz', 'n', 'a', 'f', 'c', 'e', 'cz'] as const;

/**
 * The extra KEYS of the append script, after USER_KEY_ORDER: the user's preferences (`pr`), presence
 * (`p`) and fallback decisions (`fb`). They are not in RedisKeys' `all`: the history's TTL is not
 * theirs.
 */
export const APPEND_EXTRA_KEYS = ['preferences', 'presence', 'fallbacks'] as const;

export const PRELUDE = `${PUBLISH_FRAME_LUA}
local H, U, M, D, DZ, N, A, F, C, E, CZ =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local channel, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[4])
local head = redis.call('HMGET', M, 'epoch', 'ne', 'cats', 'rm')
local epoch = head[1]
local hasCategories, removedAny = head[3] ~= false, head[4] ~= false

local function createEpoch()
  epoch = ARGV[3]
  redis.call('HSET', M, 'epoch', epoch, 't', 0)
end

local function refreshTtl()
  if ttl > 0 then
    for i = 1, ${USER_KEY_ORDER.length} do redis.call('EXPIRE', KEYS[i], ttl) end
  end
end

-- Publishes a frame on the user's channel as the next version (see channel-message.ts).
local function publish(frame, id, enqueuedAt)
  local version = redis.call('HINCRBY', M, 'v', 1)
  publishFrame(channel, epoch, version, id or '-', enqueuedAt or '0', frame)
end

local function bump(field, delta)
  if redis.call('HINCRBY', C, field, delta) <= 0 then redis.call('HDEL', C, field) end
end

local function parseMeta(raw)
  local seq, bits, exp, cat, ck = string.match(raw, '^(%d+)|(%d)|(%d)|([^|]*)|(.*)$')
  return { raw = raw, seq = tonumber(seq), bits = tonumber(bits), exp = exp == '1', cat = cat, ck = ck }
end

local function metaOf(seq)
  local raw = redis.call('ZRANGEBYSCORE', F, seq, seq)[1]
  if raw then return parseMeta(raw) end
  return nil
end

local function writeMeta(seq, old, bits, exp, cat, ck)
  if not old and bits == 0 and not exp and cat == '' and ck == '' then return end
  local raw = seq .. '|' .. bits .. '|' .. (exp and '1' or '0') .. '|' .. cat .. '|' .. ck
  if old and old.raw == raw then return end
  if old then redis.call('ZREM', F, old.raw) end
  if bits ~= 0 or exp or cat ~= '' or ck ~= '' then redis.call('ZADD', F, seq, raw) end
end

local function countsJson(unread)
  local flat = hasCategories and redis.call('HGETALL', C) or {}
  local names, per = {}, {}
  for i = 1, #flat, 2 do
    local name = string.sub(flat[i], 3)
    local entry = per[name]
    if not entry then
      entry = { 0, 0 }
      per[name] = entry
      names[#names + 1] = name
    end
    if string.sub(flat[i], 1, 1) == 'u' then entry[1] = flat[i + 1] else entry[2] = flat[i + 1] end
  end
  local parts = {}
  for i, name in ipairs(names) do
    parts[i] = '"' .. name .. '":{"unread":' .. per[name][1] .. ',"unseen":' .. per[name][2] .. '}'
  end
  return '{"unread":' .. (unread or redis.call('ZCARD', U)) .. ',"unseen":' .. redis.call('ZCARD', N) ..
    ',"categories":{' .. table.concat(parts, ',') .. '}}'
end

-- Takes a notification out of the history and every index; true when it was there.
local function removeSeq(seq)
  local id = epoch .. '-' .. seq
  if not removedAny then
    redis.call('HSET', M, 'rm', 1)
    removedAny = true
  end
  local removed = redis.call('ZREMRANGEBYSCORE', H, seq, seq)
  local meta = metaOf(seq)
  local inU = redis.call('ZREM', U, id)
  local inN = redis.call('ZREM', N, id)
  redis.call('ZREM', A, id)
  if meta then
    if meta.cat ~= '' then
      if inU == 1 then bump('u:' .. meta.cat, -1) end
      if inN == 1 then bump('n:' .. meta.cat, -1) end
    end
    redis.call('ZREM', F, meta.raw)
    if meta.exp then redis.call('ZREM', E, seq) end
    if meta.ck ~= '' and tonumber(redis.call('ZSCORE', CZ, meta.ck)) == seq then
      redis.call('ZREM', CZ, meta.ck)
    end
  end
  return removed > 0
end

local function quoted(ids)
  local parts = {}
  for i, id in ipairs(ids) do parts[i] = '"' .. id .. '"' end
  return '[' .. table.concat(parts, ',') .. ']'
end

-- Removes what has expired by now and tells the user's sockets; returns how many were removed.
local function expireDue()
  local due = redis.call('ZRANGEBYSCORE', E, '-inf', now)
  local ids = {}
  if #due > 0 then
    local unreadBefore = redis.call('ZCARD', U)
    for _, seq in ipairs(due) do
      if removeSeq(tonumber(seq)) then ids[#ids + 1] = epoch .. '-' .. seq end
    end
    redis.call('ZREMRANGEBYSCORE', E, '-inf', now)
    if #ids > 0 then
      publish('{"event":"removed","data":{"ids":' .. quoted(ids) ..
        ',"reason":"expired","counts":' .. countsJson() .. '}}')
      local unread = redis.call('ZCARD', U)
      if unread ~= unreadBefore then
        publish('{"event":"unread","data":{"unread":' .. unread .. '}}')
      end
    end
  end
  local first = redis.call('ZRANGE', E, 0, 0, 'WITHSCORES')
  if #first > 0 then redis.call('HSET', M, 'ne', first[2]) else redis.call('HDEL', M, 'ne') end
  return #ids
end

local expiredNow = 0
if epoch and head[2] and tonumber(head[2]) <= now then expiredNow = expireDue() end
`;

/** What reads and marks need of a notification's state. */
const STATE = `
-- The state of a stored notification: unread, unseen, archived, and its meta (nil when it has none).
local function stateOf(seq, id, hasMeta)
  local meta = hasMeta and metaOf(seq) or nil
  if redis.call('ZSCORE', A, id) then
    local bits = meta and meta.bits or 0
    return bits % 2 == 1, bits >= 2, true, meta
  end
  return redis.call('ZSCORE', U, id) ~= false, redis.call('ZSCORE', N, id) ~= false, false, meta
end

-- The flags a client sees: 1 = read, 2 = seen, 4 = archived.
local function flagsOf(unread, unseen, archived)
  return (unread and 0 or 1) + (unseen and 0 or 2) + (archived and 4 or 0)
end

-- Moves a stored notification from one state to another, keeping every index and count in step.
local function setState(seq, id, meta, was, to)
  local cat = meta and meta.cat or ''
  local wasU, isU = was[1] and not was[3], to[1] and not to[3]
  if wasU ~= isU then
    if isU then redis.call('ZADD', U, seq, id) else redis.call('ZREM', U, id) end
    if cat ~= '' then bump('u:' .. cat, isU and 1 or -1) end
  end
  local wasN, isN = was[2] and not was[3], to[2] and not to[3]
  if wasN ~= isN then
    if isN then redis.call('ZADD', N, seq, id) else redis.call('ZREM', N, id) end
    if cat ~= '' then bump('n:' .. cat, isN and 1 or -1) end
  end
  if was[3] ~= to[3] then
    if to[3] then redis.call('ZADD', A, seq, id) else redis.call('ZREM', A, id) end
  end
  local bits = to[3] and ((to[1] and 1 or 0) + (to[2] and 2 or 0)) or 0
  if (meta and meta.bits or 0) ~= bits then
    writeMeta(seq, meta, bits, meta and meta.exp, cat, meta and meta.ck or '')
  end
end

`;

/** Drops everything up to seq `trimTo` from every structure (count and age trims). */
const TRIM_UP_TO = `
local function trimUpTo(trimTo)
  if trimTo <= 0 then return end
  local metas = redis.call('ZRANGEBYSCORE', F, '-inf', trimTo)
  for _, raw in ipairs(metas) do
    local meta = parseMeta(raw)
    if meta.cat ~= '' then
      local id = epoch .. '-' .. meta.seq
      if redis.call('ZSCORE', U, id) then bump('u:' .. meta.cat, -1) end
      if redis.call('ZSCORE', N, id) then bump('n:' .. meta.cat, -1) end
    end
    if meta.exp then redis.call('ZREM', E, meta.seq) end
  end
  redis.call('ZREMRANGEBYSCORE', H, '-inf', trimTo)
  redis.call('ZREMRANGEBYSCORE', U, '-inf', trimTo)
  redis.call('ZREMRANGEBYSCORE', N, '-inf', trimTo)
  redis.call('ZREMRANGEBYSCORE', A, '-inf', trimTo)
  -- Every notification with a collapse key has a meta entry: without those, there is none to drop.
  if #metas > 0 then
    redis.call('ZREMRANGEBYSCORE', F, '-inf', trimTo)
    redis.call('ZREMRANGEBYSCORE', CZ, '-inf', trimTo)
  end
  local keys = redis.call('ZRANGEBYSCORE', DZ, '-inf', trimTo)
  for i = 1, #keys, 500 do
    redis.call('HDEL', D, unpack(keys, i, math.min(i + 499, #keys)))
  end
  redis.call('ZREMRANGEBYSCORE', DZ, '-inf', trimTo)
  redis.call('HSET', M, 't', trimTo)
end
`;

/**
 * The fallback decisions of a user (KEYS: FB): ZSET seq → `<id>|<state>|<due ms>|<critical 0/1>`;
 * state `w` waits for its check, `c` is claimed (its `fallback` job is being added), `x` is settled
 * (added, or none is due: read, archived, removed, or muted by the user's preference).
 */
const FALLBACK_ENTRIES = `
local FB = KEYS[${USER_KEY_ORDER.length + APPEND_EXTRA_KEYS.length}]

local function fallbackEntry(id)
  local seq = tonumber(string.match(id, '%-(%d+)$') or '')
  if not seq then return nil end
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', FB, seq, seq)) do
    if string.sub(member, 1, #id + 1) == id .. '|' then
      local state, due, critical = string.match(string.sub(member, #id + 2), '^(%a)|(%d+)|(%d)$')
      return { member = member, seq = seq, state = state, due = due, critical = critical == '1' }
    end
  end
  return nil
end

local function settleFallback(entry, id, state)
  redis.call('ZREM', FB, entry.member)
  redis.call('ZADD', FB, entry.seq, id .. '|' .. state .. '|' .. entry.due .. '|' ..
    (entry.critical and '1' or '0'))
end
`;

/**
 * ARGV (after the common four): type, payloadJson, dedupeKey, createdAt (ISO), historyLimit, cutoff
 * (ISO or ''), enqueuedAt (epoch ms, carried to the gateways for the enqueue-to-push latency),
 * category (''), expiresAt ISO (''), expiresAt ms (''), collapseKey (''), collapseKey as JSON,
 * critical ('1' or ''), fallback delay in ms ('' for none), whenOffline ('1' or '').
 * Extra KEYS (APPEND_EXTRA_KEYS): preferences, presence, fallbacks.
 * Returns {stored (1|0|2 = suppressed by the user's in-app preference), id, unread, replaced id (''
 * for none), when its fallback is due (epoch ms, '' for none; also for a duplicate)}; publishes the
 * notification frame, then `removed` (collapsed) for the one it replaced (see channel-message.ts).
 */
export const APPEND_SCRIPT = `${PRELUDE}${TRIM_UP_TO}${FALLBACK_ENTRIES}
local PR, P = KEYS[${USER_KEY_ORDER.length + 1}], KEYS[${USER_KEY_ORDER.length + 2}]
local dedupeKey, limit = ARGV[7], tonumber(ARGV[9])
local critical = ARGV[17] == '1'
local existing = redis.call('HGET', D, dedupeKey)
if existing then
  local entry = fallbackEntry(existing)
  return {0, existing, redis.call('ZCARD', U), '', entry and entry.due or ''}
end
-- Muted in-app: nothing is written (not even a new user's epoch, which would have no TTL).
if ARGV[12] ~= '' and not critical and redis.call('HGET', PR, 'i:' .. ARGV[12]) == '0' then
  return {2, '', redis.call('ZCARD', U), '', ''}
end
if not epoch then createEpoch() end
local seq = redis.call('HINCRBY', M, 'seq', 1)
local id = epoch .. '-' .. seq
local category, expiresAt, expiresAtMs, collapseKey = ARGV[12], ARGV[13], ARGV[14], ARGV[15]
local extra = ''
if category ~= '' then extra = ',"category":"' .. category .. '"' end
if expiresAt ~= '' then extra = extra .. ',"expiresAt":"' .. expiresAt .. '"' end
local replaced, seen = '', false
if collapseKey ~= '' then
  local oldSeq = redis.call('ZSCORE', CZ, collapseKey)
  if oldSeq then
    local oldId = epoch .. '-' .. oldSeq
    local old = redis.call('ZRANGEBYSCORE', H, oldSeq, oldSeq)[1]
    if old and redis.call('ZSCORE', U, oldId) then
      local before = string.sub(old, 1, (string.find(old, ',"payload":', 1, true) or #old))
      local count = tonumber(string.match(before, '"collapsedCount":(%d+)') or '1')
      -- The new one takes the old one's place in the bell too: seen if it was, so no count grows.
      seen = not redis.call('ZSCORE', N, oldId)
      removeSeq(tonumber(oldSeq))
      replaced = oldId
      extra = extra .. ',"collapsedCount":' .. (count + 1) .. ',"replaces":"' .. oldId .. '"'
    end
  end
  extra = extra .. ',"collapseKey":' .. ARGV[16]
  redis.call('ZADD', CZ, seq, collapseKey)
end
local body = '{"createdAt":"' .. ARGV[8] .. '","id":"' .. id .. '","type":"' .. ARGV[5] .. '"' ..
  extra .. ',"payload":' .. ARGV[6]
redis.call('ZADD', H, seq, body .. '}')
redis.call('ZADD', U, seq, id)
if not seen then redis.call('ZADD', N, seq, id) end
if category ~= '' then
  if not hasCategories then
    redis.call('HSET', M, 'cats', 1)
    hasCategories = true
  end
  bump('u:' .. category, 1)
  if not seen then bump('n:' .. category, 1) end
end
if expiresAtMs ~= '' then
  redis.call('ZADD', E, expiresAtMs, seq)
  local ne = redis.call('HGET', M, 'ne')
  if not ne or tonumber(expiresAtMs) < tonumber(ne) then redis.call('HSET', M, 'ne', expiresAtMs) end
end
writeMeta(seq, nil, 0, expiresAtMs ~= '', category, collapseKey)
redis.call('HSET', D, dedupeKey, id)
redis.call('ZADD', DZ, seq, dedupeKey)

local trimTo = 0
local excess = redis.call('ZCARD', H) - limit
if excess > 0 then
  local last = redis.call('ZRANGE', H, excess - 1, excess - 1, 'WITHSCORES')
  trimTo = tonumber(last[2])
end
if ARGV[10] ~= '' then
  -- Oldest first, in chunks, up to the first entry that is young enough.
  local offset, young = 0, false
  while not young do
    local chunk = redis.call('ZRANGE', H, offset, offset + 99, 'WITHSCORES')
    if #chunk == 0 then break end
    for i = 1, #chunk, 2 do
      if string.sub(chunk[i], 15, 38) < ARGV[10] then
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
-- Removed ones (collapsed, expired) keep their dedupe keys, so that a retried job does not store
-- them again; the newest historyLimit keys are kept. Without removals dz holds no more than h does
-- (released keys leave both d and dz).
local extraKeys = removedAny and (redis.call('ZCARD', DZ) - limit) or 0
if extraKeys > 0 then
  local keys = redis.call('ZRANGE', DZ, 0, extraKeys - 1)
  for i = 1, #keys, 500 do
    redis.call('HDEL', D, unpack(keys, i, math.min(i + 499, #keys)))
  end
  redis.call('ZREMRANGEBYRANK', DZ, 0, extraKeys - 1)
end

refreshTtl()
-- The fallback: due after the delay, or at once when asked for an offline user (no gateway holds a
-- presence entry that is still valid).
local fallbackDue = ''
if ARGV[18] ~= '' or ARGV[19] == '1' then
  if ARGV[19] == '1' and redis.call('ZCOUNT', P, '(' .. now, '+inf') == 0 then
    fallbackDue = string.format('%d', now)
  elseif ARGV[18] ~= '' then
    fallbackDue = string.format('%d', now + tonumber(ARGV[18]))
  end
  if fallbackDue ~= '' then
    redis.call('ZADD', FB, seq, id .. '|w|' .. fallbackDue .. '|' .. (critical and '1' or '0'))
    if ttl > 0 then redis.call('EXPIRE', FB, ttl) end
  end
end
local unread = redis.call('ZCARD', U)
local counts = countsJson(unread)
publish('{"event":"notification","data":{"notification":' .. body ..
  ',"read":false,"seen":' .. tostring(seen) .. ',"archived":false},"unread":' .. unread ..
  ',"counts":' .. counts .. '}}',
  id, ARGV[11])
if replaced ~= '' then
  publish('{"event":"removed","data":{"ids":["' .. replaced .. '"],"reason":"collapsed","counts":' ..
    counts .. '}}')
end
return {1, id, unread, replaced, fallbackDue}
`;

/**
 * ARGV (after the common four): sinceEpoch ('' = no resume), sinceSeq.
 * Returns {epoch, seq, version, unread, truncated (1|0), members, flags, counts JSON}. The epoch is
 * created here when the user has none yet, so that even an empty history has a position to resume
 * from. `version` counts every message published on the user's channel, so a socket can drop what
 * the snapshot already covers.
 */
export const REPLAY_SCRIPT = `${PRELUDE}${STATE}
if not epoch then
  createEpoch()
  if ttl > 0 then redis.call('EXPIRE', M, ttl) end
end
local meta = redis.call('HMGET', M, 'seq', 'v', 't')
local seq = tonumber(meta[1] or '0')
local version = tonumber(meta[2] or '0')
local unread = redis.call('ZCARD', U)
local counts = countsJson(unread)
if ARGV[5] == '' then
  return {epoch, seq, version, unread, 0, {}, {}, counts}
end
local sinceSeq = tonumber(ARGV[6])
if ARGV[5] ~= epoch or sinceSeq > seq then
  return {epoch, seq, version, unread, 1, {}, {}, counts}
end
local truncated
if meta[3] then
  truncated = sinceSeq < tonumber(meta[3])
else
  -- A history written before protocol 1.1 lost nothing but by trims.
  local first = redis.call('ZRANGE', H, 0, 0, 'WITHSCORES')
  if #first == 0 then
    truncated = sinceSeq < seq
  else
    truncated = sinceSeq + 1 < tonumber(first[2])
  end
end
if truncated then
  return {epoch, seq, version, unread, 1, {}, {}, counts}
end
local hasMeta = redis.call('EXISTS', F) == 1
local found = redis.call('ZRANGEBYSCORE', H, '(' .. sinceSeq, '+inf', 'WITHSCORES')
local members, flags = {}, {}
for i = 1, #found, 2 do
  members[#members + 1] = found[i]
  local s = tonumber(found[i + 1])
  local unreadOne, unseen, archived = stateOf(s, epoch .. '-' .. s, hasMeta)
  flags[#flags + 1] = flagsOf(unreadOne, unseen, archived)
end
return {epoch, seq, version, unread, 0, members, flags, counts}
`;

/**
 * ARGV (after the common four): beforeEpoch ('' = newest page), beforeSeq, limit, status (see
 * InboxStatus), category ('' = any).
 * Returns {counts JSON, members, flags, hasMore (1|0)}, newest first.
 */
export const LIST_SCRIPT = `${PRELUDE}${STATE}
local counts = countsJson()
local current = epoch or ''
local max = '+inf'
if ARGV[5] ~= '' then
  if ARGV[5] ~= current then return {counts, {}, {}, 0} end
  max = '(' .. ARGV[6]
end
local limit, status, category = tonumber(ARGV[7]), ARGV[8], ARGV[9]
local source = H
if status == 'unread' then source = U elseif status == 'unseen' then source = N
elseif status == 'archived' then source = A end
local hasMeta = redis.call('EXISTS', F) == 1
if category ~= '' and not hasMeta then return {counts, {}, {}, 0} end
local members, flags = {}, {}
local more = false
local chunkSize = limit + 1
while not more do
  local chunk = redis.call('ZREVRANGEBYSCORE', source, max, '-inf', 'WITHSCORES', 'LIMIT', 0, chunkSize)
  for i = 1, #chunk, 2 do
    local seq = tonumber(chunk[i + 1])
    local id = current .. '-' .. seq
    local unread, unseen, archived, meta = stateOf(seq, id, hasMeta)
    local wanted = true
    if status == 'inbox' then wanted = not archived
    elseif status == 'read' then wanted = not archived and not unread end
    if wanted and category ~= '' then wanted = meta ~= nil and meta.cat == category end
    if wanted then
      if #members == limit then
        more = true
        break
      end
      local body = chunk[i]
      if source ~= H then body = redis.call('ZRANGEBYSCORE', H, seq, seq)[1] end
      if body then
        members[#members + 1] = body
        flags[#flags + 1] = flagsOf(unread, unseen, archived)
      end
    end
  end
  if #chunk < chunkSize * 2 then break end
  max = '(' .. chunk[#chunk]
  chunkSize = math.min(chunkSize * 2, 1000)
end
return {counts, members, flags, more and 1 or 0}
`;

/**
 * ARGV (after the common four): as (see MarkAs), 'ids' | 'all', category ('' = any), onlyRead ('1' or
 * ''), ids... Returns {changed, counts JSON, changed ids, unread before}; publishes `marked` (and v1's `unread` when
 * that count changed) when anything changed.
 */
export const MARK_SCRIPT = `${PRELUDE}${STATE}
if not epoch then return {0, countsJson(), {}, 0} end
local as, mode, category, onlyRead = ARGV[5], ARGV[6], ARGV[7], ARGV[8] == '1'
local hasMeta = redis.call('EXISTS', F) == 1
local unreadBefore = redis.call('ZCARD', U)
if category ~= '' and not hasMeta then return {0, countsJson(unreadBefore), {}, unreadBefore} end

local function target(unread, unseen, archived)
  if as == 'read' then return { false, false, archived } end
  if as == 'unread' then return { true, unseen, archived } end
  if as == 'seen' then return { unread, false, archived } end
  if as == 'archived' then return { false, false, true } end
  return { unread, unseen, false }
end

local changed = {}
local function apply(seq, id)
  local unread, unseen, archived, meta = stateOf(seq, id, hasMeta)
  if category ~= '' and (meta == nil or meta.cat ~= category) then return end
  if mode == 'all' then
    -- "all" means the inbox (not archived), except for unarchiving.
    if (as == 'unarchived') ~= archived then return end
    if onlyRead and unread then return end
  end
  local to = target(unread, unseen, archived)
  if to[1] == unread and to[2] == unseen and to[3] == archived then return end
  setState(seq, id, meta, { unread, unseen, archived }, to)
  changed[#changed + 1] = id
end

-- Members of H are bodies; those of the other indexes are ids.
local function applyAll(source)
  local max = '+inf'
  while true do
    local chunk = redis.call('ZREVRANGEBYSCORE', source, max, '-inf', 'WITHSCORES', 'LIMIT', 0, 200)
    for i = 1, #chunk, 2 do
      local seq = tonumber(chunk[i + 1])
      apply(seq, source == H and (epoch .. '-' .. seq) or chunk[i])
    end
    if #chunk < 400 then break end
    max = '(' .. chunk[#chunk]
  end
end

if mode == 'ids' then
  local prefix = epoch .. '-'
  local done = {}
  for i = 9, #ARGV do
    local id = ARGV[i]
    if not done[id] and string.sub(id, 1, #prefix) == prefix then
      done[id] = true
      local seq = tonumber(string.match(string.sub(id, #prefix + 1), '^[1-9]%d*$'))
      if seq and redis.call('ZCOUNT', H, seq, seq) > 0 then apply(seq, id) end
    end
  end
elseif as == 'read' then
  -- Reading marks seen too: the unread ones, then those read but not seen.
  applyAll(U)
  applyAll(N)
elseif as == 'seen' then
  applyAll(N)
elseif as == 'unarchived' then
  applyAll(A)
else
  applyAll(H)
end

local counts = countsJson()
if #changed > 0 then
  refreshTtl()
  local what
  if mode == 'ids' then
    what = '"ids":' .. quoted(changed)
  else
    what = '"all":true'
    if category ~= '' then what = what .. ',"category":"' .. category .. '"' end
    if onlyRead then what = what .. ',"onlyRead":true' end
  end
  publish('{"event":"marked","data":{"as":"' .. as .. '",' .. what .. ',"counts":' .. counts .. '}}')
  local unread = redis.call('ZCARD', U)
  if unread ~= unreadBefore then
    publish('{"event":"unread","data":{"unread":' .. unread .. '}}')
  end
end
return {#changed, counts, changed, unreadBefore}
`;

/** Returns {counts JSON}, after removing what has expired. */
export const COUNTS_SCRIPT = `${PRELUDE}
return {countsJson()}
`;

/** Removes what has expired. Returns {removed, the next expiry in ms (-1 for none)}. */
export const EXPIRE_SCRIPT = `${PRELUDE}
local ne = redis.call('HGET', M, 'ne')
return {expiredNow, ne and tonumber(ne) or -1}
`;

/**
 * The set of users with something due to expire (KEYS: that set). ARGV: userId, the score it was
 * read with, the user's next expiry (-1 for none). Moves the user to the next expiry only when no
 * append set an earlier one meanwhile.
 */
export const RESCHEDULE_SCRIPT = `
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
if current ~= ARGV[2] then return 0 end
if tonumber(ARGV[3]) < 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
end
return 1
`;

/**
 * The fallback check of one notification, at its due time. KEYS: USER_KEY_ORDER, preferences,
 * presence (unused), fallbacks (the append script's). ARGV (after the common four): id.
 * Returns {0} (no fallback: none registered, already settled, or read, archived, removed, or muted
 * by the user's fallback preference: settled now), {2, due} (not due yet), or {1, body, flags}: the
 * fallback is claimed (now, or by an earlier attempt that may not have added its job); the caller
 * adds the `fallback` job (idempotently) and then settles it (FALLBACK_SETTLE_SCRIPT).
 */
export const FALLBACK_CLAIM_SCRIPT = `${PRELUDE}${FALLBACK_ENTRIES}
local PR = KEYS[${USER_KEY_ORDER.length + 1}]
local id = ARGV[5]
local entry = fallbackEntry(id)
local result = {0}
if entry and entry.state ~= 'x' then
  local current = epoch and string.sub(id, 1, #epoch + 1) == epoch .. '-'
  local body = current and redis.call('ZRANGEBYSCORE', H, entry.seq, entry.seq)[1] or nil
  if entry.state == 'w' and now < tonumber(entry.due) then
    result = {2, entry.due}
  elseif not body then
    settleFallback(entry, id, 'x')
  elseif entry.state == 'c' then
    result = {1, body}
  else
    local unread = redis.call('ZSCORE', U, id) ~= false
    local muted = false
    if unread and not entry.critical then
      local raw = redis.call('ZRANGEBYSCORE', F, entry.seq, entry.seq)[1]
      local cat = raw and parseMeta(raw).cat or ''
      muted = cat ~= '' and redis.call('HGET', PR, 'f:' .. cat) == '0'
    end
    if unread and not muted then
      settleFallback(entry, id, 'c')
      result = {1, body}
    else
      settleFallback(entry, id, 'x')
    end
  end
  if result[1] == 1 then
    local seen = redis.call('ZSCORE', N, id) == false
    local archived = redis.call('ZSCORE', A, id) ~= false
    local unreadNow = redis.call('ZSCORE', U, id) ~= false
    result[3] = (unreadNow and 0 or 1) + (seen and 2 or 0) + (archived and 4 or 0)
  end
end
-- Decisions about notifications no longer in the history are of no more use.
local first = redis.call('ZRANGE', H, 0, 0, 'WITHSCORES')
if #first == 0 then
  redis.call('DEL', FB)
else
  redis.call('ZREMRANGEBYSCORE', FB, '-inf', '(' .. first[2])
end
return result
`;

/** KEYS: the user's fallbacks. ARGV: id. Settles a claimed fallback (its job was added). */
export const FALLBACK_SETTLE_SCRIPT = `
local FB = KEYS[1]
local id = ARGV[1]
local seq = tonumber(string.match(id, '%-(%d+)$') or '')
if not seq then return 0 end
for _, member in ipairs(redis.call('ZRANGEBYSCORE', FB, seq, seq)) do
  if string.sub(member, 1, #id + 3) == id .. '|c|' then
    redis.call('ZREM', FB, member)
    redis.call('ZADD', FB, seq, id .. '|x|' .. string.sub(member, #id + 4))
    return 1
  end
end
return 0
`;
