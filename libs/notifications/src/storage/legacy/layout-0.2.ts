import type { Redis } from 'ioredis';
import {
  parseNotificationId,
  type InboxPage,
  type InboxStatus,
  type MarkEventData,
  type Notification,
  type NotificationCounts,
} from '@rtnotify/protocol';
import { PUBLISH_FRAME_LUA } from '../channel-message.js';

/*
 * TEST-ONLY FIXTURE: the 0.2.x storage layout of @rtnotify/nestjs, frozen. NEVER CHANGE IT.
 *
 * The store after 0.2.x keeps a user's notifications in a smaller layout and migrates a 0.2.x
 * user's data in place the first time it touches that user. The migration spec
 * (../redis-notification.store.migration.spec.ts) proves it: it writes histories with this fixture
 * exactly as a 0.2.x deployment would have, records the answers 0.2.x gave (replay, list, counts),
 * then opens the current RedisNotificationStore on the same keys and expects the same answers.
 *
 * So this file must keep writing and reading what 0.2.x wrote and read, whatever the store becomes:
 * the Lua below is lua-scripts.ts as it was at 0.2.x (main at b112f4d), byte for byte, and
 * LegacyStore drives it and decodes its replies as RedisNotificationStore did then. Fix nothing here
 * to make a test pass: a difference is the migration's to explain.
 *
 * Not part of the package: it is not exported from the index, and tsconfig.build.json leaves the
 * legacy/ folder out of dist (as it does the *-spec-kit.ts files). One Redis only (no cluster
 * hash-tag escaping, no per-node sequence fence): the migration spec runs on one Redis.
 */

// ---- lua-scripts.ts of 0.2.x, verbatim but for `export` (nothing outside uses these names). ----
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
 */

/** The KEYS of every per-user script, in this order. */
const USER_KEY_ORDER = ['h', 'u', 'm', 'd', 'dz', 'n', 'a', 'f', 'c', 'e', 'cz'] as const;

/**
 * The extra KEYS of the append script, after USER_KEY_ORDER: the user's preferences (`pr`), presence
 * (`p`) and fallback decisions (`fb`). They are not in RedisKeys' `all`: the history's TTL is not
 * theirs.
 */
const APPEND_EXTRA_KEYS = ['preferences', 'presence', 'fallbacks'] as const;

const PRELUDE = `${PUBLISH_FRAME_LUA}
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
const APPEND_SCRIPT = `${PRELUDE}${TRIM_UP_TO}${FALLBACK_ENTRIES}
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
-- them again; the newest historyLimit keys are kept. Without removals dz holds what h does.
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
const REPLAY_SCRIPT = `${PRELUDE}${STATE}
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
const LIST_SCRIPT = `${PRELUDE}${STATE}
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
const MARK_SCRIPT = `${PRELUDE}${STATE}
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
const COUNTS_SCRIPT = `${PRELUDE}
return {countsJson()}
`;

// ---- The 0.2.x keys and store (redis-keys.ts and redis-notification.store.ts of 0.2.x). ----

/** The KEYS of every 0.2.x per-user script, in this order (the suffixes of the key names). */
export const LEGACY_KEY_ORDER = USER_KEY_ORDER;

/** The extra KEYS of the 0.2.x append, after LEGACY_KEY_ORDER (see legacyKeys for their names). */
export const LEGACY_APPEND_EXTRA_KEYS = APPEND_EXTRA_KEYS;

/** The keys of one user's data, as 0.2.x named them (RedisKeys.forUser on one Redis). */
export interface LegacyKeys {
  /** One per LEGACY_KEY_ORDER suffix: `<prefix>:{<userId>}:<suffix>`. */
  data: Record<(typeof USER_KEY_ORDER)[number], string>;
  preferences: string;
  presence: string;
  fallbacks: string;
  channel: string;
  /** The sweeper's work list (ZSET userId → next expiry in ms), shared by every user. */
  expiring: string;
}

/** The names 0.2.x gave a user's keys under `prefix` on one Redis (not a cluster). */
export function legacyKeys(prefix: string, userId: string): LegacyKeys {
  const base = `${prefix}:{${userId}}:`;
  const data = Object.fromEntries(USER_KEY_ORDER.map((name) => [name, base + name])) as Record<
    (typeof USER_KEY_ORDER)[number],
    string
  >;
  return {
    data,
    preferences: `${base}pr`,
    presence: `${base}p`,
    fallbacks: `${base}fb`,
    channel: `${base}ch`,
    expiring: `${prefix}:expiring`,
  };
}

/** What the migration spec appends with the 0.2.x layout. */
export interface LegacyAppendRequest {
  type: string;
  /** Serialized with JSON.stringify. */
  payload: unknown;
  dedupeKey: string;
  category?: string;
  collapseKey?: string;
  /** ISO 8601 as `Date.toISOString()` writes it. */
  expiresAt?: string;
}

/** The 0.2.x append's answer, decoded as RedisNotificationStore.append did. */
export interface LegacyAppendResult {
  userId: string;
  id: string;
  stored: boolean;
  unread: number;
  replaced?: string;
  suppressed?: boolean;
  fallbackDueAt?: number;
}

/** The 0.2.x replay's answer, decoded as RedisNotificationStore.replay did (frames are JSON). */
export interface LegacyReplayResult {
  frames: string[];
  unread: number;
  counts: NotificationCounts;
  cursor: string;
  head: { epoch: string; version: number };
  truncated: boolean;
}

/** The 0.2.x mark's answer, decoded as RedisNotificationStore.mark did. */
export interface LegacyMarkResult {
  ids: string[];
  changed: number;
  counts: NotificationCounts;
  unreadBefore: number;
}

/** The 0.2.x inbox query (InboxQuery of 0.2.x). */
export interface LegacyInboxQuery {
  limit: number;
  before?: string;
  /** @default 'inbox' */
  status?: InboxStatus;
  category?: string;
}

type Arg = string | number;

/** The commands LegacyStore defines on its client (names no store of the package uses). */
interface LegacyCommands {
  legacy02Append(...args: Arg[]): Promise<[number, string, number, string, string]>;
  legacy02Replay(
    ...args: Arg[]
  ): Promise<[string, number, number, number, number, string[], number[], string]>;
  legacy02List(...args: Arg[]): Promise<[string, string[], number[], number]>;
  legacy02Mark(...args: Arg[]): Promise<[number, string, string[], number]>;
  legacy02Counts(...args: Arg[]): Promise<[string]>;
}

/** The client-side flags (read, seen, archived) of a stored notification, from the scripts' bits. */
const FLAG_SUFFIXES = Array.from(
  { length: 8 },
  (_, bits) =>
    `,"read":${(bits & 1) === 1},"seen":${(bits & 2) === 2},"archived":${(bits & 4) === 4}}`,
);

/** Appends the state flags to a stored notification's JSON without decoding it. */
function withFlags(member: string, flags: number): string {
  return member.slice(0, -1) + FLAG_SUFFIXES[flags];
}

/** 0.2.x's epoch candidate (utils/epoch.util.ts): 10 random base-36 characters. */
function newEpoch(): string {
  return (Math.random().toString(36).slice(2, 12) + '0000000000').slice(0, 10);
}

/**
 * Writes and reads a user's notifications exactly as the 0.2.x RedisNotificationStore did on one
 * Redis: the same scripts, KEYS, ARGV and decoding. Only what the migration spec needs: append (no
 * fallbacks, no preferences), replay, list, mark and counts.
 */
export class LegacyStore {
  private readonly commands: LegacyCommands;
  private readonly historyLimit: number;
  private readonly historyMaxAgeSeconds: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: {
      keyPrefix: string;
      historyLimit: number;
      /** 0.2.x's default: 0 (no age trim, no TTL). */
      historyMaxAgeSeconds?: number;
    },
  ) {
    this.historyLimit = options.historyLimit;
    this.historyMaxAgeSeconds = options.historyMaxAgeSeconds ?? 0;
    if (!Number.isInteger(this.historyLimit) || this.historyLimit < 1) {
      throw new Error(
        `LegacyStore: historyLimit must be a positive integer, not ${this.historyLimit}`,
      );
    }
    const numberOfKeys = USER_KEY_ORDER.length;
    redis.defineCommand('legacy02Append', {
      numberOfKeys: numberOfKeys + APPEND_EXTRA_KEYS.length,
      lua: APPEND_SCRIPT,
    });
    redis.defineCommand('legacy02Replay', { numberOfKeys, lua: REPLAY_SCRIPT });
    redis.defineCommand('legacy02List', { numberOfKeys, lua: LIST_SCRIPT });
    redis.defineCommand('legacy02Mark', { numberOfKeys, lua: MARK_SCRIPT });
    redis.defineCommand('legacy02Counts', { numberOfKeys, lua: COUNTS_SCRIPT });
    this.commands = redis as unknown as LegacyCommands;
  }

  /** The 0.2.x key names of `userId` under this store's prefix. */
  keys(userId: string): LegacyKeys {
    return legacyKeys(this.options.keyPrefix, userId);
  }

  /** KEYS and the ARGV every per-user script began with. */
  private common(userId: string, now = Date.now()): Arg[] {
    const k = this.keys(userId);
    return [
      ...USER_KEY_ORDER.map((name) => k.data[name]),
      k.channel,
      now,
      newEpoch(),
      this.historyMaxAgeSeconds,
    ];
  }

  async append(userId: string, request: LegacyAppendRequest): Promise<LegacyAppendResult> {
    const now = Date.now();
    const createdAt = new Date(now).toISOString();
    const maxAge = this.historyMaxAgeSeconds;
    const cutoff = maxAge > 0 ? new Date(now - maxAge * 1000).toISOString() : '';
    const k = this.keys(userId);
    const expiresAtMs = request.expiresAt === undefined ? '' : Date.parse(request.expiresAt);
    if (Number.isNaN(expiresAtMs)) {
      throw new Error(`LegacyStore: expiresAt is not a date: ${request.expiresAt}`);
    }
    const extra = [k.preferences, k.presence, k.fallbacks];
    const [stored, id, unread, replaced, fallbackDue] = await this.commands.legacy02Append(
      ...USER_KEY_ORDER.map((name) => k.data[name]),
      ...extra,
      k.channel,
      now,
      newEpoch(),
      maxAge,
      request.type,
      JSON.stringify(request.payload),
      request.dedupeKey,
      createdAt,
      this.historyLimit,
      cutoff,
      0, // enqueuedAt: unknown
      request.category ?? '',
      request.expiresAt ?? '',
      expiresAtMs,
      request.collapseKey ?? '',
      request.collapseKey === undefined ? '' : JSON.stringify(request.collapseKey),
      '', // not critical
      '', // no fallback delay
      '', // no fallback when offline
    );
    if (expiresAtMs !== '') {
      // 0.2.x added the user to the sweeper's work list in the same pipeline, right after.
      await this.redis.zadd(k.expiring, 'LT', expiresAtMs, userId);
    }
    const result: LegacyAppendResult = { userId, id, stored: stored === 1, unread };
    if (replaced !== '') result.replaced = replaced;
    if (stored === 2) result.suppressed = true;
    if (fallbackDue !== '') result.fallbackDueAt = Number(fallbackDue);
    return result;
  }

  async replay(userId: string, since: string | undefined): Promise<LegacyReplayResult> {
    let sinceEpoch = '';
    let sinceSeq = 0;
    if (since !== undefined) {
      const parsed = parseNotificationId(since);
      sinceEpoch = parsed?.epoch ?? '?';
      sinceSeq = parsed?.seq ?? 0;
    }
    const [epoch, seq, version, unread, truncated, members, flags, counts] =
      await this.commands.legacy02Replay(...this.common(userId), sinceEpoch, sinceSeq);
    return {
      frames: members.map(
        (member, i) =>
          `{"event":"notification","data":{"notification":${withFlags(member, flags[i])},"unread":${unread},"counts":${counts}}}`,
      ),
      unread,
      counts: JSON.parse(counts) as NotificationCounts,
      cursor: `${epoch}-${seq}`,
      head: { epoch, version: Number(version) },
      truncated: truncated === 1,
    };
  }

  async list(userId: string, query: LegacyInboxQuery): Promise<InboxPage> {
    const before = query.before === undefined ? undefined : parseNotificationId(query.before);
    const [countsJson, members, flags, hasMore] = await this.commands.legacy02List(
      ...this.common(userId),
      query.before === undefined ? '' : (before?.epoch ?? '?'),
      before?.seq ?? 0,
      query.limit,
      query.status ?? 'inbox',
      query.category ?? '',
    );
    const items = members.map(
      (member, i) => JSON.parse(withFlags(member, flags[i])) as Notification,
    );
    const counts = JSON.parse(countsJson) as NotificationCounts;
    return {
      items,
      unread: counts.unread,
      counts,
      nextCursor: hasMore === 1 && items.length > 0 ? items[items.length - 1].id : null,
    };
  }

  async mark(userId: string, selection: MarkEventData): Promise<LegacyMarkResult> {
    const args: Arg[] =
      'ids' in selection
        ? [selection.as, 'ids', '', '', ...selection.ids]
        : [selection.as, 'all', selection.category ?? '', selection.onlyRead ? '1' : ''];
    const [changed, counts, ids, unreadBefore] = await this.commands.legacy02Mark(
      ...this.common(userId),
      ...args,
    );
    return { ids, changed, counts: JSON.parse(counts) as NotificationCounts, unreadBefore };
  }

  async counts(userId: string): Promise<NotificationCounts> {
    const [counts] = await this.commands.legacy02Counts(...this.common(userId));
    return JSON.parse(counts) as NotificationCounts;
  }
}
