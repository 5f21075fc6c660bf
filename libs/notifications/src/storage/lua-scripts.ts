import { PUBLISH_FRAME_LUA } from './channel-message.js';

/*
 * Each script touches the keys of one user only (see RedisKeys), so it runs atomically and in one
 * round trip. Every per-user script takes the same KEYS (USER_KEY_ORDER) and begins with the same
 * ARGV: channel, now (epoch ms), epochCandidate, ttlSeconds (0 for none). Two take several users
 * per call, on one Redis only (a cluster call names one user): appendManyScript runs the append
 * once per user (on one Redis it makes the users' keys itself), and RELEASE_MANY_SCRIPT drops dedupe
 * keys.
 *
 * A user's data (layout 2; LEGACY_KEY_ORDER names the keys of the 0.2.x layout, see MIGRATE_SCRIPT):
 * - l  LIST of the stored notifications, oldest first, in seq order (seqs may have gaps: removed
 *      ones, and the cluster's sequence fence). Each entry is
 *      `<seq>|<state>|<createdAt ms>|<type>|<category>|<length of extra>|<extra><payload JSON>`:
 *      state bits 1 = unread, 2 = unseen, 4 = archived (an archived one keeps its unread and unseen
 *      bits, but is not counted); extra is the rest of the notification's JSON fields in the order
 *      they are sent (`,"expiresAt":…,"collapsedCount":…,"replaces":…,"collapseKey":…`), mostly
 *      empty. A list keeps its entries in listpack nodes whatever their size, so an entry costs its
 *      own bytes and a few more; the id (`<epoch>-<seq>`) and the JSON around the fields are rebuilt
 *      when read (decodeEntry in stored-entry.ts).
 * - m  HASH epoch, seq (last issued), v (channel messages published), t (trimmed up to this seq),
 *      un / us (how many are unread / unseen and not archived), lv (the layout: LAYOUT_VERSION),
 *      ne (the earliest expiry in e), cats (set once a notification had a category: c may hold
 *      counts), rm (set once one was collapsed or expired).
 * - k  ZSET dedupe key → seq. A producer's key (`k:…`) and an idempotent job's key stay as long as
 *      the notification is in the history; a job attempt's key (`j:<jobId>:<timestamp>[:i]`) only
 *      until the job completes, when the worker releases it (NotificationStore.releaseDedupeKeys).
 *      The limit: a worker that lost its job's lock (blocked past lockDuration) while another
 *      completed the job could store it twice.
 * - c  HASH `u:<category>` / `n:<category>` → counts of the unread / unseen per category (no zero
 *      fields).
 * - e  ZSET expiresAt (ms) → seq of each notification that expires.
 * - cz ZSET collapseKey → seq of the newest notification with that key.
 */

/** The KEYS of every per-user script, in this order. */
export const USER_KEY_ORDER = ['l', 'm', 'k', 'c', 'e', 'cz'] as const;

/** The keys of the 0.2.x layout that layout 2 no longer has (see MIGRATE_SCRIPT). */
export const LEGACY_KEY_ORDER = ['h', 'u', 'd', 'dz', 'n', 'a', 'f'] as const;

/** The layout the scripts read and write, kept in the meta hash as `lv`. */
export const LAYOUT_VERSION = '2';

/** What a script answers when the user's data is still in the 0.2.x layout: migrate, then again. */
export const LEGACY_LAYOUT_ERROR = 'RTNOTIFY_LEGACY_LAYOUT';

/**
 * The extra KEYS of the append script, after USER_KEY_ORDER: the user's preferences (`pr`), presence
 * (`p`) and fallback decisions (`fb`). They are not in RedisKeys' `all`: the history's TTL is not
 * theirs.
 */
export const APPEND_EXTRA_KEYS = ['preferences', 'presence', 'fallbacks'] as const;

/** Reading one entry of the history list (see the top of this file), shared by every script. */
const ENTRIES = `
-- A whole number as text. Cheaper than letting Lua or Redis convert it (a number concatenated is
-- printed with '%.14g', a number passed to redis.call with '%.17g': float printing, many times
-- the cost); the append's path passes text. Each number is printed once per call: string.format
-- costs Redis about 1,300 instructions (callgrind), and a call prints the same counts, states and
-- lengths many times (for each of its users, and in the user's counts and frame).
local ints = {}
local function int(n)
  local text = ints[n]
  if not text then
    text = string.format('%d', n)
    -- (NaN is no table key.)
    if n == n then ints[n] = text end
  end
  return text
end

local function bit(state, b) return math.floor(state / b) % 2 == 1 end

-- Counted as unread / unseen: the bit is set and the notification is not archived.
local function isUnread(state) return bit(state, 1) and not bit(state, 4) end
local function isUnseen(state) return bit(state, 2) and not bit(state, 4) end

local function parse(raw)
  local seq, state, ms, kind, cat, length, at =
    string.match(raw, '^(%d+)|(%d)|(%d+)|([^|]*)|([^|]*)|(%d+)|()')
  return { raw = raw, seqText = seq, seq = tonumber(seq), state = tonumber(state), ms = tonumber(ms),
    type = kind, cat = cat, extra = string.sub(raw, at, at + tonumber(length) - 1) }
end

local function seqOf(raw) return tonumber(string.match(raw, '^%d+')) end
local function stateOf(raw) return tonumber(string.match(raw, '^%d+|(%d)')) end

-- The same entry with another state.
local function withState(entry, state)
  return entry.seqText .. '|' .. state .. string.sub(entry.raw, #entry.seqText + 3)
end
`;

/**
 * The user's state that PRELUDE_LIBRARY's functions read and write: declared here, before them,
 * and set for each user by PRELUDE_INIT (nothing keeps a value from one user to the next but the
 * texts `now` and `ttl` were read from, which only spare reading the same text again).
 */
const PRELUDE_STATE = `
local L, M, K, C, E, CZ, channel, now, ttl, head, epoch, hasCategories, removedAny
-- How many are unread ('un') and unseen ('us'): read with the head, kept up to date by count().
local unreadNow, unseenNow
-- Set by appendManyScript alone: the user's place in the call (see createEpoch).
local userIndex
-- The texts now and ttl were read from (see PRELUDE_INIT).
local nowText, ttlText
`;

/**
 * The functions every per-user script shares. Each is a closure made when the script runs, so
 * appendManyScript makes them once per call, not once per user (with 11 users a call, a tenth of
 * Redis's instructions per append, counted with callgrind).
 */
const PRELUDE_LIBRARY = `${PUBLISH_FRAME_LUA}${ENTRIES}${PRELUDE_STATE}
-- A new history's epoch: the candidate, and in appendManyScript's calls the user's place in the call
-- after it (made only for a new user: each string a script makes costs Redis about 1,500
-- instructions).
local function createEpoch()
  epoch = userIndex and ARGV[3] .. string.format('%02x', userIndex) or ARGV[3]
  redis.call('HSET', M, 'epoch', epoch, 't', '0', 'lv', '${LAYOUT_VERSION}')
end

local function refreshTtl()
  if ttl > 0 then
    for i = 1, ${USER_KEY_ORDER.length} do redis.call('EXPIRE', KEYS[i], ttl) end
  end
end

-- Publishes a frame on the user's channel as the next version (see channel-message.ts).
local function publish(frame, id, enqueuedAt)
  local version = redis.call('HINCRBY', M, 'v', '1')
  publishFrame(channel, epoch, int(version), id or '-', enqueuedAt or '0', frame)
end

local function bump(field, delta)
  if redis.call('HINCRBY', C, field, int(delta)) <= 0 then redis.call('HDEL', C, field) end
end

-- Adds (sign 1) or takes away (-1) what a notification in this state counts for. In these scripts
-- only count() writes 'un' and 'us', unless it is told to leave them (the append writes them with
-- the sequence number), and unreadNow and unseenNow hold their values: both are set in one call.
local function count(state, cat, sign, leaveCounts)
  local unread, unseen = isUnread(state), isUnseen(state)
  if unread then
    unreadNow = unreadNow + sign
    if cat ~= '' then bump('u:' .. cat, sign) end
  end
  if unseen then
    unseenNow = unseenNow + sign
    if cat ~= '' then bump('n:' .. cat, sign) end
  end
  if leaveCounts then return end
  if unread and unseen then
    redis.call('HSET', M, 'un', int(unreadNow), 'us', int(unseenNow))
  elseif unread then
    redis.call('HSET', M, 'un', int(unreadNow))
  elseif unseen then
    redis.call('HSET', M, 'us', int(unseenNow))
  end
end

-- The index of the first entry whose seq is >= target (the list's length when there is none).
local function lowerBound(target, length)
  local lo, hi = 0, length or redis.call('LLEN', L)
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if seqOf(redis.call('LINDEX', L, mid)) < target then lo = mid + 1 else hi = mid end
  end
  return lo
end

-- The entry with this seq and its index, or nil.
local function find(seq)
  local index = lowerBound(seq)
  local raw = redis.call('LINDEX', L, index)
  if raw and seqOf(raw) == seq then return parse(raw), index end
  return nil
end

-- The per-category counts as JSON members (see countsJson).
local function categoriesJson()
  local flat = redis.call('HGETALL', C)
  local names, per = {}, {}
  for i = 1, #flat, 2 do
    local name = string.sub(flat[i], 3)
    local entry = per[name]
    if not entry then
      entry = { '0', '0' }
      per[name] = entry
      names[#names + 1] = name
    end
    if string.sub(flat[i], 1, 1) == 'u' then entry[1] = flat[i + 1] else entry[2] = flat[i + 1] end
  end
  local parts = {}
  for i, name in ipairs(names) do
    parts[i] = '"' .. name .. '":{"unread":' .. per[name][1] .. ',"unseen":' .. per[name][2] .. '}'
  end
  return table.concat(parts, ',')
end

-- Most users have no categories, and their counts make no table (each table or string a script
-- makes costs Redis about 1,500 instructions, counted with callgrind).
local function countsJson(unread)
  return '{"unread":' .. int(unread or unreadNow) .. ',"unseen":' .. int(unseenNow) ..
    ',"categories":{' .. (hasCategories and categoriesJson() or '') .. '}}'
end

-- Takes a notification out of the history and every index.
local function removeEntry(entry)
  if not removedAny then
    redis.call('HSET', M, 'rm', 1)
    removedAny = true
  end
  redis.call('LREM', L, 1, entry.raw)
  count(entry.state, entry.cat, -1)
  if string.find(entry.extra, '"expiresAt":', 1, true) then redis.call('ZREM', E, entry.seqText) end
  if string.find(entry.extra, '"collapseKey":', 1, true) then
    for _, key in ipairs(redis.call('ZRANGEBYSCORE', CZ, entry.seq, entry.seq)) do
      redis.call('ZREM', CZ, key)
    end
  end
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
    local unreadBefore = unreadNow
    for _, seq in ipairs(due) do
      local entry = find(tonumber(seq))
      if entry then
        removeEntry(entry)
        ids[#ids + 1] = epoch .. '-' .. entry.seqText
      end
    end
    redis.call('ZREMRANGEBYSCORE', E, '-inf', now)
    if #ids > 0 then
      publish('{"event":"removed","data":{"ids":' .. quoted(ids) ..
        ',"reason":"expired","counts":' .. countsJson() .. '}}')
      local unread = unreadNow
      if unread ~= unreadBefore then
        publish('{"event":"unread","data":{"unread":' .. unread .. '}}')
      end
    end
  end
  local first = redis.call('ZRANGE', E, 0, 0, 'WITHSCORES')
  if #first > 0 then redis.call('HSET', M, 'ne', first[2]) else redis.call('HDEL', M, 'ne') end
  return #ids
end
`;

/** Reads the user's head (refusing the 0.2 layout) and removes what has expired by now. */
const PRELUDE_INIT = `
L, M, K, C, E, CZ = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
channel = ARGV[1]
-- The same for every user of an appendManyScript call: read once (tonumber costs Redis about 1,200
-- instructions, callgrind).
if ARGV[2] ~= nowText then nowText, now = ARGV[2], tonumber(ARGV[2]) end
if ARGV[4] ~= ttlText then ttlText, ttl = ARGV[4], tonumber(ARGV[4]) end
head = redis.call('HMGET', M, 'epoch', 'ne', 'cats', 'rm', 'lv', 'un', 'us', 'seq')
epoch = head[1]
if epoch and head[5] ~= '${LAYOUT_VERSION}' then
  return redis.error_reply('${LEGACY_LAYOUT_ERROR} this history is in the 0.2 layout')
end
hasCategories, removedAny = head[3] ~= false, head[4] ~= false
unreadNow, unseenNow = tonumber(head[6] or '0'), tonumber(head[7] or '0')
local expiredNow = 0
if epoch and head[2] and tonumber(head[2]) <= now then expiredNow = expireDue() end
`;

export const PRELUDE = `${PRELUDE_LIBRARY}${PRELUDE_INIT}`;

/** Drops the `n` oldest entries from the history and every index (count and age trims). */
const TRIM_FRONT = `
local function trimFront(n)
  if n <= 0 then return end
  local last, collapsing = nil, false
  for _, raw in ipairs(redis.call('LRANGE', L, 0, n - 1)) do
    local entry = parse(raw)
    count(entry.state, entry.cat, -1)
    if string.find(entry.extra, '"expiresAt":', 1, true) then
      redis.call('ZREM', E, entry.seqText)
    end
    if string.find(entry.extra, '"collapseKey":', 1, true) then collapsing = true end
    last = entry.seqText
  end
  redis.call('LTRIM', L, n, -1)
  -- cz only points at stored entries that have a collapse key: none among these, none to drop.
  if collapsing then redis.call('ZREMRANGEBYSCORE', CZ, '-inf', last) end
  redis.call('ZREMRANGEBYSCORE', K, '-inf', last)
  redis.call('HSET', M, 't', last)
end
`;

/**
 * The fallback decisions of a user (KEYS: FB): ZSET seq → `<id>|<state>|<due ms>|<critical 0/1>`;
 * state `w` waits for its check, `c` is claimed (its `fallback` job is being added), `x` is settled
 * (added, or none is due: read, archived, removed, or muted by the user's preference).
 */
const FALLBACK_LIBRARY = `
local FB

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

const FALLBACK_INIT = `
FB = KEYS[${USER_KEY_ORDER.length + APPEND_EXTRA_KEYS.length}]
`;

const FALLBACK_ENTRIES = `${FALLBACK_LIBRARY}${FALLBACK_INIT}`;

/** The history limit and the text it was read from, read once per call as `now` is. */
const APPEND_STATE = `
local limit, limitText
`;

/**
 * Lua: the sequence number the append issues, the one after the head's. Nothing is written here: the
 * append writes it with the counts, in one HSET, once it stores (a duplicate writes nothing). On a
 * cluster, cluster-scripts.ts puts a fenced one in its place.
 */
export const NEXT_SEQ_LUA = `
local function nextSeq() return (tonumber(head[8]) or 0) + 1 end
`;

/** The append's reply for a notification stored already (by its dedupe key). */
const DUPLICATE_REPLY = `
local function duplicateOf(existingSeq)
  local existing = epoch .. '-' .. existingSeq
  local entry = FB and fallbackEntry(existing)
  return {0, existing, unreadNow, '', entry and entry.due or ''}
end
`;

/** The functions of the append and the state they share (see APPEND_SCRIPT). */
export const APPEND_LIBRARY = `${PRELUDE_LIBRARY}${TRIM_FRONT}${FALLBACK_LIBRARY}${APPEND_STATE}${NEXT_SEQ_LUA}${DUPLICATE_REPLY}`;

/** One user's append, after APPEND_LIBRARY (see APPEND_SCRIPT). */
export const APPEND_BODY = `${PRELUDE_INIT}${FALLBACK_INIT}
local PR, P = KEYS[${USER_KEY_ORDER.length + 1}], KEYS[${USER_KEY_ORDER.length + 2}]
local dedupeKey = ARGV[7]
if ARGV[9] ~= limitText then limitText, limit = ARGV[9], tonumber(ARGV[9]) end
local critical = ARGV[17] == '1'
local category, expiresAt, expiresAtMs, collapseKey = ARGV[12], ARGV[13], ARGV[14], ARGV[15]
-- One the user may have muted in-app: a duplicate is still answered as one; muted, nothing is
-- written (not even a new user's epoch, which would have no TTL).
if category ~= '' and not critical then
  local existingSeq = epoch and redis.call('ZSCORE', K, dedupeKey)
  if existingSeq then return duplicateOf(existingSeq) end
  if redis.call('HGET', PR, 'i:' .. category) == '0' then return {2, '', unreadNow, '', ''} end
end
local known = epoch
if not known then createEpoch() end
local seq = int(nextSeq())
-- The dedupe key is added first, and only if it is not there: one call both checks and records it.
-- A duplicate has written nothing (on a cluster, the fenced nextSeq has: a gap in the sequence).
if redis.call('ZADD', K, 'NX', seq, dedupeKey) == 0 then
  if known then return duplicateOf(redis.call('ZSCORE', K, dedupeKey)) end
  -- A new history, and a key left from an earlier one: this notification's now.
  redis.call('ZADD', K, seq, dedupeKey)
end
local id = epoch .. '-' .. seq
-- The notification's JSON fields after type and category, as they are sent and stored.
local extra = ''
if expiresAt ~= '' then extra = ',"expiresAt":"' .. expiresAt .. '"' end
local replaced, seen = '', false
if collapseKey ~= '' then
  local oldSeq = redis.call('ZSCORE', CZ, collapseKey)
  local old = oldSeq and find(tonumber(oldSeq)) or nil
  if old and isUnread(old.state) then
    local count = tonumber(string.match(old.extra, '"collapsedCount":(%d+)') or '1')
    -- The new one takes the old one's place in the bell too: seen if it was, so no count grows.
    seen = not isUnseen(old.state)
    removeEntry(old)
    replaced = epoch .. '-' .. old.seqText
    extra = extra .. ',"collapsedCount":' .. (count + 1) .. ',"replaces":"' .. replaced .. '"'
  end
  extra = extra .. ',"collapseKey":' .. ARGV[16]
  redis.call('ZADD', CZ, seq, collapseKey)
end
local state = seen and 1 or 3
local length = redis.call('RPUSH', L, seq .. '|' .. int(state) .. '|' .. ARGV[20] .. '|' ..
  ARGV[5] .. '|' .. category .. '|' .. int(#extra) .. '|' .. extra .. ARGV[6])
if category ~= '' and not hasCategories then
  redis.call('HSET', M, 'cats', 1)
  hasCategories = true
end
-- 'un' and 'us' are written below, with the sequence.
count(state, category, 1, true)
if expiresAtMs ~= '' then
  redis.call('ZADD', E, expiresAtMs, seq)
  local ne = redis.call('HGET', M, 'ne')
  if not ne or tonumber(expiresAtMs) < tonumber(ne) then redis.call('HSET', M, 'ne', expiresAtMs) end
end

-- The oldest go: past the history limit, and (oldest first, in chunks) those older than the cutoff.
local drop = math.max(length - limit, 0)
if ARGV[10] ~= '' then
  local cutoff, young = tonumber(ARGV[10]), false
  while not young and drop < length do
    local chunk = redis.call('LRANGE', L, drop, drop + 99)
    for _, raw in ipairs(chunk) do
      if tonumber(string.match(raw, '^%d+|%d|(%d+)')) < cutoff then
        drop = drop + 1
      else
        young = true
        break
      end
    end
  end
end
trimFront(drop)
-- Removed ones (collapsed, expired) keep their dedupe keys, so that a retried job does not store
-- them again; the newest historyLimit keys are kept.
local extraKeys = removedAny and (redis.call('ZCARD', K) - limit) or 0
if extraKeys > 0 then redis.call('ZREMRANGEBYRANK', K, 0, extraKeys - 1) end

refreshTtl()
-- The fallback: due after the delay, or at once when asked for an offline user (no gateway holds a
-- presence entry that is still valid).
local fallbackDue = ''
if ARGV[18] ~= '' or ARGV[19] == '1' then
  if ARGV[19] == '1' and redis.call('ZCOUNT', P, '(' .. now, '+inf') == 0 then
    fallbackDue = int(now)
  elseif ARGV[18] ~= '' then
    fallbackDue = int(now + tonumber(ARGV[18]))
  end
  if fallbackDue ~= '' then
    redis.call('ZADD', FB, seq, id .. '|w|' .. fallbackDue .. '|' .. (critical and '1' or '0'))
    if ttl > 0 then redis.call('EXPIRE', FB, ttl) end
  end
end
local unread = unreadNow
local counts = countsJson(unread)
-- One write for the sequence and the counts (count() left them).
redis.call('HSET', M, 'seq', seq, 'un', int(unread), 'us', int(unseenNow))
-- The notification is written into the frame in place, not made a string of its own first.
publish('{"event":"notification","data":{"notification":{"createdAt":"' .. ARGV[8] .. '","id":"' ..
  id .. '","type":"' .. ARGV[5] .. '"' ..
  (category ~= '' and (',"category":"' .. category .. '"') or '') .. extra .. ',"payload":' ..
  ARGV[6] .. ',"read":false,"seen":' .. tostring(seen) .. ',"archived":false},"unread":' ..
  int(unread) .. ',"counts":' .. counts .. '}}',
  id, ARGV[11])
if replaced ~= '' then
  publish('{"event":"removed","data":{"ids":["' .. replaced .. '"],"reason":"collapsed","counts":' ..
    counts .. '}}')
end
return {1, id, unread, replaced, fallbackDue}
`;

/**
 * ARGV (after the common four): type, payloadJson, dedupeKey, createdAt (ISO), historyLimit, cutoff
 * (epoch ms or ''), enqueuedAt (epoch ms, carried to the gateways for the enqueue-to-push latency),
 * category (''), expiresAt ISO (''), expiresAt ms (''), collapseKey (''), collapseKey as JSON,
 * critical ('1' or ''), fallback delay in ms ('' for none), whenOffline ('1' or ''), createdAt (epoch
 * ms). Extra KEYS (APPEND_EXTRA_KEYS): preferences, presence, fallbacks.
 * Returns {stored (1|0|2 = suppressed by the user's in-app preference), id, unread, replaced id (''
 * for none), when its fallback is due (epoch ms, '' for none; also for a duplicate)}; publishes the
 * notification frame, then `removed` (collapsed) for the one it replaced (see channel-message.ts).
 */
export const APPEND_SCRIPT = `${APPEND_LIBRARY}${APPEND_BODY}`;

/**
 * The KEYS of one user's append: USER_KEY_ORDER, then APPEND_EXTRA_KEYS. In appendManyScript's calls
 * on one Redis, the users of a notification that needs none of the extra keys pass USER_KEY_ORDER
 * only (see needsExtraKeys).
 */
export const APPEND_KEYS_PER_USER = USER_KEY_ORDER.length + APPEND_EXTRA_KEYS.length;

/**
 * Whether an append reads or writes the extra keys (APPEND_EXTRA_KEYS): the preferences for a
 * category, the presence and the fallbacks for a fallback. A duplicate of one without a fallback
 * answers that none is due without reading the fallbacks.
 */
export function needsExtraKeys(notification: {
  category?: string;
  fallbackDelayMs?: number;
  fallbackWhenOffline?: boolean;
}): boolean {
  return (
    notification.category !== undefined ||
    notification.fallbackDelayMs !== undefined ||
    notification.fallbackWhenOffline === true
  );
}

/**
 * The fields of a notification that appendManyScript takes once for all the users that share them
 * (a fan-out): APPEND_SCRIPT's ARGV 5-7 and 11-19, in this order. The dedupe key is one of them: it
 * is the notification's (a producer's key, or the job's), the same for each of its users.
 */
export const APPEND_BODY_FIELDS = [
  'type',
  'payloadJson',
  'dedupeKey',
  'enqueuedAt',
  'category',
  'expiresAt',
  'expiresAtMs',
  'collapseKey',
  'collapseKeyJson',
  'critical',
  'fallbackDelayMs',
  'fallbackWhenOffline',
] as const;

/**
 * The APPEND_BODY_FIELDS that a body always sends (type, payload, dedupe key and enqueuedAt); the
 * others are optional, mostly empty, and left out when no later field is set.
 */
export const APPEND_BODY_REQUIRED_FIELDS = 4;

/** The ARGV of appendManyScript before its bodies. */
const APPEND_CALL_FIELDS = 7;

/**
 * How appendManyScript makes a user's keys and channel from the user's base (RedisKeys.baseOf): the
 * suffixes of APPEND_SCRIPT's KEYS in order (USER_KEY_ORDER, then APPEND_EXTRA_KEYS), and the
 * channel's.
 */
export interface UserKeySuffixes {
  keys: readonly string[];
  channel: string;
}

/**
 * The appends of several users in one call: `body` (APPEND_BODY, or its cluster form) runs once
 * per user in a protected call, so that an error is that user's reply only, as with one script per
 * user (what the user's script wrote before the error stays written, as it would then). `library`
 * (APPEND_LIBRARY) runs once per call, before: its functions see each user's KEYS and ARGV and the
 * state that the body sets for that user.
 *
 * How a user's keys get there depends on `suffixes`:
 * - given (one Redis): the call passes no KEYS, only each user's base, what the user's keys and
 *   channel begin with, and the script makes the keys and the channel from it. A script may touch
 *   keys it was not given outside a cluster (BullMQ's scripts make theirs too), and making a key
 *   in the script costs Redis less than receiving it (−2.5 to −3 % of its instructions per
 *   notification, callgrind) and the service far less than sending it;
 * - not given (a cluster, where Redis routes and checks a call by the keys it names, one user's):
 *   KEYS are each user's keys in turn, and the user's channel comes in place of the base.
 * A user takes APPEND_KEYS_PER_USER keys, or USER_KEY_ORDER's alone when its body says so.
 *
 * ARGV: bodies, now (epoch ms), ttlSeconds, createdAt (ISO), historyLimit, cutoff, epochSeed (8
 * characters); each body: how many of the users, one after the other, take it, whether they take the
 * extra keys ('1', or '' when the notification needs none of them: needsExtraKeys), how many of its
 * APPEND_BODY_FIELDS follow (at least APPEND_BODY_REQUIRED_FIELDS: the empty ones at the end are
 * left out, and read as empty), and those fields; then each user's base (or channel). The users of
 * a fan-out share one body, so its payload crosses the wire once, and a user costs the call only its
 * base. Every argument is a string that Redis makes for the script, and the service builds and
 * writes: an empty one costs Redis little (leaving out a common notification's eight empty fields
 * saved 1.1–1.6 % of its instructions), the others about 1,500 instructions each. A new user's
 * epochCandidate is the seed and its place in the call in two hex digits, so that two new users of
 * a call get two epochs (APPEND_CALL_MAX users at most, under 256).
 * Returns each user's APPEND_SCRIPT reply (or error), in order.
 */
export function appendManyScript(body: string, library = '', suffixes?: UserKeySuffixes): string {
  const keys = suffixes
    ? suffixes.keys.map((suffix) => `base .. '${suffix}'`)
    : Array.from({ length: APPEND_KEYS_PER_USER }, (_, i) => `callKeys[k + ${i + 1}]`);
  const ownKeys = keys.slice(0, USER_KEY_ORDER.length);
  /** Where the next user's keys begin in KEYS (without suffixes). */
  const advance = (count: number) => (suffixes ? '' : `\n      k = k + ${count}`);
  /** A body's field (`at` is where its fields begin, `n` how many it sends). */
  const field = (name: (typeof APPEND_BODY_FIELDS)[number]) => {
    const index = APPEND_BODY_FIELDS.indexOf(name) + 1;
    return index <= APPEND_BODY_REQUIRED_FIELDS
      ? `callArgv[at + ${index}]`
      : `(n >= ${index} and callArgv[at + ${index}] or '')`;
  };
  const fieldsFrom = (name: (typeof APPEND_BODY_FIELDS)[number]) =>
    APPEND_BODY_FIELDS.slice(APPEND_BODY_FIELDS.indexOf(name)).map(field).join(',\n    ');
  return `
local callKeys, callArgv = KEYS, ARGV
local KEYS, ARGV
${library}
local function appendOne(userKeys, userArgv)
  KEYS, ARGV = userKeys, userArgv
${body}
end

local bodies, callNow, callTtl = tonumber(callArgv[1]), callArgv[2], callArgv[3]
local createdAt, callLimit, cutoff, seed = callArgv[4], callArgv[5], callArgv[6], callArgv[7]
-- The users' bases (or channels) follow the bodies, each three arguments and its fields.
local users = ${APPEND_CALL_FIELDS}
for _ = 1, bodies do users = users + 3 + tonumber(callArgv[users + 3]) end
local replies, i, k, at = {}, 0, 0, ${APPEND_CALL_FIELDS}
for _ = 1, bodies do
  local count, extra, n =
    tonumber(callArgv[at + 1]), callArgv[at + 2] == '1', tonumber(callArgv[at + 3])
  at = at + 3
  -- APPEND_SCRIPT's ARGV; the channel (1) is each user's.
  local userArgv = { '', callNow, seed, callTtl, ${field('type')}, ${field('payloadJson')},
    ${field('dedupeKey')}, createdAt, callLimit, cutoff,
    ${fieldsFrom('enqueuedAt')},
    callNow }
  at = at + n
  for _ = 1, count do
    i = i + 1
    ${
      suffixes
        ? `local base = callArgv[users + i]
    userArgv[1], userIndex = base .. '${suffixes.channel}', i`
        : 'userArgv[1], userIndex = callArgv[users + i], i'
    }
    local userKeys
    if extra then
      userKeys = { ${keys.join(', ')} }${advance(APPEND_KEYS_PER_USER)}
    else
      userKeys = { ${ownKeys.join(', ')} }${advance(USER_KEY_ORDER.length)}
    end
    local ok, reply = pcall(appendOne, userKeys, userArgv)
    if ok then
      replies[i] = reply
    else
      replies[i] = redis.error_reply(type(reply) == 'table' and reply.err or tostring(reply))
    end
  end
end
return replies
`;
}

/**
 * Releases dedupe keys of several users in one call (on one Redis: the keys need not share a slot).
 * KEYS: each user's dedupe ZSET (k). ARGV: per user in turn, how many of its keys follow, then them.
 * Returns how many were removed.
 */
export const RELEASE_MANY_SCRIPT = `
local at, removed = 1, 0
for _, key in ipairs(KEYS) do
  local last = at + tonumber(ARGV[at])
  -- In slices: unpack returns at most a few thousand values.
  for first = at + 1, last, 1000 do
    removed = removed + redis.call('ZREM', key, unpack(ARGV, first, math.min(first + 999, last)))
  end
  at = last + 1
end
return removed
`;

/**
 * ARGV (after the common four): sinceEpoch ('' = no resume), sinceSeq.
 * Returns {epoch, seq, version, unread, truncated (1|0), entries, counts JSON}. The epoch is created
 * here when the user has none yet, so that even an empty history has a position to resume from.
 * `version` counts every message published on the user's channel, so a socket can drop what the
 * snapshot already covers.
 */
export const REPLAY_SCRIPT = `${PRELUDE}
if not epoch then
  createEpoch()
  if ttl > 0 then redis.call('EXPIRE', M, ttl) end
end
local meta = redis.call('HMGET', M, 'seq', 'v', 't')
local seq = tonumber(meta[1] or '0')
local version = tonumber(meta[2] or '0')
local unread = unreadNow
local counts = countsJson(unread)
if ARGV[5] == '' then
  return {epoch, seq, version, unread, 0, {}, counts}
end
local sinceSeq = tonumber(ARGV[6])
if ARGV[5] ~= epoch or sinceSeq > seq or sinceSeq < tonumber(meta[3] or '0') then
  return {epoch, seq, version, unread, 1, {}, counts}
end
local entries = redis.call('LRANGE', L, lowerBound(sinceSeq + 1), -1)
return {epoch, seq, version, unread, 0, entries, counts}
`;

/** Which entries each inbox status holds, by their state. */
const STATUS_FILTER = `
local function wantedBy(status, state)
  if status == 'inbox' then return not bit(state, 4) end
  if status == 'unread' then return isUnread(state) end
  if status == 'unseen' then return isUnseen(state) end
  if status == 'archived' then return bit(state, 4) end
  if status == 'read' then return not bit(state, 4) and not bit(state, 1) end
  return true
end
`;

/**
 * ARGV (after the common four): beforeEpoch ('' = newest page), beforeSeq, limit, status (see
 * InboxStatus), category ('' = any).
 * Returns {counts JSON, epoch ('' for none), entries, hasMore (1|0)}, newest first.
 */
export const LIST_SCRIPT = `${PRELUDE}${STATUS_FILTER}
local counts = countsJson()
local current = epoch or ''
local length = redis.call('LLEN', L)
local top = length - 1
if ARGV[5] ~= '' then
  if ARGV[5] ~= current then return {counts, current, {}, 0} end
  top = lowerBound(tonumber(ARGV[6]), length) - 1
end
local limit, status, category = tonumber(ARGV[7]), ARGV[8], ARGV[9]
if category ~= '' and not hasCategories then return {counts, current, {}, 0} end
local entries = {}
local more = false
local chunkSize = limit + 1
while top >= 0 and not more do
  local from = math.max(top - chunkSize + 1, 0)
  local chunk = redis.call('LRANGE', L, from, top)
  for i = #chunk, 1, -1 do
    local raw = chunk[i]
    local wanted = wantedBy(status, stateOf(raw))
    if wanted and category ~= '' then wanted = parse(raw).cat == category end
    if wanted then
      if #entries == limit then
        more = true
        break
      end
      entries[#entries + 1] = raw
    end
  end
  top = from - 1
  chunkSize = math.min(chunkSize * 2, 1000)
end
return {counts, current, entries, more and 1 or 0}
`;

/**
 * ARGV (after the common four): as (see MarkAs), 'ids' | 'all', category ('' = any), onlyRead ('1' or
 * ''), ids... Returns {changed, counts JSON, changed ids, unread before}; publishes `marked` (and v1's
 * `unread` when that count changed) when anything changed.
 */
export const MARK_SCRIPT = `${PRELUDE}${STATUS_FILTER}
if not epoch then return {0, countsJson(), {}, 0} end
local as, mode, category, onlyRead = ARGV[5], ARGV[6], ARGV[7], ARGV[8] == '1'
local unreadBefore = unreadNow
if category ~= '' and not hasCategories then return {0, countsJson(unreadBefore), {}, unreadBefore} end

-- The state a notification in this state goes to.
local function target(state)
  local unread, unseen, archived = bit(state, 1), bit(state, 2), bit(state, 4)
  if as == 'read' then unread, unseen = false, false
  elseif as == 'unread' then unread = true
  elseif as == 'seen' then unseen = false
  elseif as == 'archived' then unread, unseen, archived = false, false, true
  else archived = false end
  return (unread and 1 or 0) + (unseen and 2 or 0) + (archived and 4 or 0)
end

local changed = {}
local function apply(entry, index)
  if category ~= '' and entry.cat ~= category then return end
  local archived = bit(entry.state, 4)
  if mode == 'all' then
    -- "all" means the inbox (not archived), except for unarchiving.
    if (as == 'unarchived') ~= archived then return end
    if onlyRead and bit(entry.state, 1) then return end
  end
  local state = target(entry.state)
  if state == entry.state then return end
  count(entry.state, entry.cat, -1)
  count(state, entry.cat, 1)
  redis.call('LSET', L, index, withState(entry, state))
  changed[#changed + 1] = epoch .. '-' .. entry.seqText
end

-- Every entry of a status, newest first (marks change states, never indexes).
local function applyAll(status)
  local top = redis.call('LLEN', L) - 1
  while top >= 0 do
    local from = math.max(top - 199, 0)
    local chunk = redis.call('LRANGE', L, from, top)
    for i = #chunk, 1, -1 do
      if wantedBy(status, stateOf(chunk[i])) then apply(parse(chunk[i]), from + i - 1) end
    end
    top = from - 1
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
      local entry, index
      if seq then entry, index = find(seq) end
      if entry then apply(entry, index) end
    end
  end
elseif as == 'read' then
  -- Reading marks seen too: the unread ones, then those read but not seen.
  applyAll('unread')
  applyAll('unseen')
elseif as == 'seen' then
  applyAll('unseen')
elseif as == 'unarchived' then
  applyAll('archived')
else
  applyAll('all')
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
  local unread = unreadNow
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
 * by the user's fallback preference: settled now), {2, due} (not due yet), or {1, entry}: the
 * fallback is claimed (now, or by an earlier attempt that may not have added its job); the caller
 * adds the `fallback` job (idempotently) and then settles it (FALLBACK_SETTLE_SCRIPT).
 */
export const FALLBACK_CLAIM_SCRIPT = `${PRELUDE}${FALLBACK_ENTRIES}
local PR = KEYS[${USER_KEY_ORDER.length + 1}]
local id = ARGV[5]
local decision = fallbackEntry(id)
local result = {0}
if decision and decision.state ~= 'x' then
  local current = epoch and string.sub(id, 1, #epoch + 1) == epoch .. '-'
  local stored = current and find(decision.seq) or nil
  if decision.state == 'w' and now < tonumber(decision.due) then
    result = {2, decision.due}
  elseif not stored then
    settleFallback(decision, id, 'x')
  elseif decision.state == 'c' then
    result = {1, stored.raw}
  else
    local unread = isUnread(stored.state)
    local muted = unread and not decision.critical and stored.cat ~= '' and
      redis.call('HGET', PR, 'f:' .. stored.cat) == '0'
    if unread and not muted then
      settleFallback(decision, id, 'c')
      result = {1, stored.raw}
    else
      settleFallback(decision, id, 'x')
    end
  end
end
-- Decisions about notifications no longer in the history are of no more use.
local first = redis.call('LINDEX', L, 0)
if not first then
  redis.call('DEL', FB)
else
  redis.call('ZREMRANGEBYSCORE', FB, '-inf', '(' .. seqOf(first))
end
return result
`;

/**
 * Converts one user's data from the 0.2.x layout (h ZSET seq → JSON, u / n / a ZSETs of ids, f ZSET
 * of item metadata, d HASH + dz ZSET of dedupe keys) to layout 2, in place and at once; c, e, cz
 * and the meta hash keep their form. KEYS: USER_KEY_ORDER, then LEGACY_KEY_ORDER. Returns how many
 * notifications it converted (0 when there was nothing to convert). The other scripts refuse a
 * history in the old layout (LEGACY_LAYOUT_ERROR), so every one is converted before it is used.
 */
export const MIGRATE_SCRIPT = `
local L, M, K = KEYS[1], KEYS[2], KEYS[3]
local H, U, D, DZ, N, A, F = KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[13]
local head = redis.call('HMGET', M, 'epoch', 'lv', 't', 'seq')
local epoch = head[1]
if head[2] == '${LAYOUT_VERSION}' then return 0 end
local converted = 0
if epoch then
  local function members(key)
    local set = {}
    for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do set[member] = true end
    return set
  end
  local unread, unseen, archived = members(U), members(N), members(A)
  -- An archived one's unread and unseen bits were kept in its item metadata.
  local kept = {}
  for _, raw in ipairs(redis.call('ZRANGE', F, 0, -1)) do
    local seq, bits = string.match(raw, '^(%d+)|(%d)|')
    kept[seq] = tonumber(bits)
  end
  -- Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil).
  local function days(y, m, d)
    if m <= 2 then y = y - 1 end
    local era = math.floor(y / 400)
    local yoe = y - era * 400
    local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
    return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
  end
  redis.call('DEL', L, K)
  local found = redis.call('ZRANGE', H, 0, -1, 'WITHSCORES')
  local batch = {}
  for i = 1, #found, 2 do
    local body, seq = found[i], found[i + 1]
    local id = epoch .. '-' .. seq
    local y, mo, d, hh, mi, ss, ms = string.match(body,
      '^{"createdAt":"(%d+)%-(%d+)%-(%d+)T(%d+):(%d+):(%d+)%.(%d+)Z"')
    local createdMs = ((days(tonumber(y), tonumber(mo), tonumber(d)) * 24 + tonumber(hh)) * 60 +
      tonumber(mi)) * 60 + tonumber(ss)
    createdMs = string.format('%.0f', createdMs * 1000 + tonumber(ms))
    local kind, after = string.match(body, ',"type":"([^"]*)"()')
    -- The fields between type and payload; a JSON string cannot hold an unescaped ',"payload":'.
    local payloadAt = string.find(body, ',"payload":', after, true)
    local extra = string.sub(body, after, payloadAt - 1)
    local cat = string.match(extra, '^,"category":"([^"]*)"') or ''
    if cat ~= '' then extra = string.sub(extra, #cat + 15) end
    local state
    if archived[id] then
      state = 4 + (kept[seq] or 0)
    else
      state = (unread[id] and 1 or 0) + (unseen[id] and 2 or 0)
    end
    batch[#batch + 1] = seq .. '|' .. state .. '|' .. createdMs .. '|' .. kind .. '|' .. cat .. '|' ..
      #extra .. '|' .. extra .. string.sub(body, payloadAt + 11, -2)
    if #batch == 100 then
      redis.call('RPUSH', L, unpack(batch))
      batch = {}
    end
  end
  if #batch > 0 then redis.call('RPUSH', L, unpack(batch)) end
  converted = #found / 2
  local keys = redis.call('HGETALL', D)
  local scored = {}
  for i = 1, #keys, 2 do
    local seq = string.match(keys[i + 1], '^' .. epoch .. '%-(%d+)$')
    if seq then
      scored[#scored + 1] = seq
      scored[#scored + 1] = keys[i]
    end
    if #scored == 200 or (i + 1 == #keys and #scored > 0) then
      redis.call('ZADD', K, unpack(scored))
      scored = {}
    end
  end
  -- A history written before protocol 1.1 lost nothing but by trims.
  local trimmed = head[3]
  if not trimmed then
    trimmed = #found > 0 and string.format('%d', tonumber(found[2]) - 1) or (head[4] or '0')
  end
  redis.call('HSET', M, 'lv', '${LAYOUT_VERSION}', 't', trimmed, 'un', redis.call('ZCARD', U),
    'us', redis.call('ZCARD', N))
  local pttl = redis.call('PTTL', M)
  if pttl > 0 then
    redis.call('PEXPIRE', L, pttl)
    redis.call('PEXPIRE', K, pttl)
  end
end
redis.call('DEL', H, U, D, DZ, N, A, F)
return converted
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
