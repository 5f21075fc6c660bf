/**
 * Reads over the candidate layouts of memory-layouts.mjs, to count the Redis commands each read
 * runs inside its one script (from INFO commandstats: calls made by a script count there). For
 * `today` these are the store's own replay, list and counts scripts; for the stream layouts, sketches
 * in Lua of the same reads (resume after a seq with each item's flags, a newest-first page of the
 * inbox and of the unread ones, the unread and unseen counts). The sketches leave out what does not
 * change the command count of this data (categories, expiry, collapse, the archived state, which
 * they do check for: an EXISTS or GET that finds nothing).
 */

/** Flags as the store returns them: 1 = read, 2 = seen, 4 = archived. */
const FLAGS = `
local function flagsOf(unread, unseen) return (unread and 0 or 1) + (unseen and 0 or 2) end
`;

/** KEYS: h, m, u, n, a. ARGV: op (resume|inbox|unread|counts), sinceSeq or page size, ring bits. */
const STREAM_BITMAP = `${FLAGS}
local H, M, U, N, A = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local op, arg, ring = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local function bit(bits, pos)
  if not bits then return false end
  local i = pos % ring
  local byte = string.byte(bits, math.floor(i / 8) + 1) or 0
  return math.floor(byte / 2 ^ (7 - i % 8)) % 2 == 1
end
local function fieldOf(entry, name)
  local f = entry[2]
  for i = 1, #f, 2 do if f[i] == name then return f[i + 1] end end
end
if op == 'counts' then
  return {redis.call('BITCOUNT', U), redis.call('BITCOUNT', N)}
end
local meta = redis.call('HMGET', M, 'epoch', 'seq', 't')
local u, n, a = redis.call('GET', U), redis.call('GET', N), redis.call('GET', A)
local entries
if op == 'resume' then
  entries = redis.call('XRANGE', H, '(' .. arg .. '-0', '+')
elseif op == 'inbox' then
  entries = redis.call('XREVRANGE', H, '+', '-', 'COUNT', arg + 1)
else
  -- unread: walk the ring newest first, read the entries whose bit is set, one XRANGE each.
  entries = {}
  local newest = redis.call('XREVRANGE', H, '+', '-', 'COUNT', 1)[1]
  local seq = newest and tonumber(string.match(newest[1], '^(%d+)')) or 0
  local pos = newest and tonumber(fieldOf(newest, 'g')) or 0
  local oldest = math.max(1, pos - ring + 1)
  while pos >= oldest and #entries <= arg do
    if bit(u, pos) then
      local e = redis.call('XRANGE', H, seq .. '-0', seq .. '-0')[1]
      if e then entries[#entries + 1] = e end
    end
    pos, seq = pos - 1, seq - 1 -- a gapless history in this data: pos and seq move together
  end
end
local seqs, flags = {}, {}
for i = 1, math.min(#entries, op == 'resume' and #entries or arg) do
  local e = entries[i]
  local pos = tonumber(fieldOf(e, 'g'))
  seqs[i] = tonumber(string.match(e[1], '^(%d+)'))
  flags[i] = flagsOf(bit(u, pos), bit(n, pos)) + (bit(a, pos) and 4 or 0)
end
return {seqs, flags, redis.call('BITCOUNT', U), redis.call('BITCOUNT', N)}
`;

/** KEYS: h, m, u, n, a (bases of the chunk keys). ARGV: op, sinceSeq or page size, chunk size. */
const STREAM_INTSETS = `${FLAGS}
local H, M, U, N, A = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local op, arg, chunk = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local meta = redis.call('HMGET', M, 'epoch', 'seq', 't')
local last, trimmed = tonumber(meta[2] or '0'), tonumber(meta[3] or '0')
local function chunks() return math.floor((trimmed + 1) / chunk), math.floor(last / chunk) end
local function count(base)
  local total, first, final = 0, chunks()
  for c = first, final do total = total + redis.call('SCARD', base .. ':' .. c) end
  return total
end
if op == 'counts' then return {count(U), count(N)} end
local member = function(base, seq) return redis.call('SISMEMBER', base .. ':' .. math.floor(seq / chunk), seq) == 1 end
local archived = {}
local first, final = chunks()
for c = first, final do archived[c] = redis.call('EXISTS', A .. ':' .. c) == 1 end
local entries
if op == 'resume' then
  entries = redis.call('XRANGE', H, '(' .. arg .. '-0', '+')
elseif op == 'inbox' then
  entries = redis.call('XREVRANGE', H, '+', '-', 'COUNT', arg + 1)
else
  -- unread: the members of the unread chunks, newest first, then one XRANGE per wanted entry.
  entries = {}
  for c = final, first, -1 do
    local seqs = redis.call('SMEMBERS', U .. ':' .. c)
    table.sort(seqs, function(x, y) return tonumber(x) > tonumber(y) end)
    for _, s in ipairs(seqs) do
      if #entries > arg then break end
      local e = redis.call('XRANGE', H, s .. '-0', s .. '-0')[1]
      if e then entries[#entries + 1] = e end
    end
    if #entries > arg then break end
  end
end
local seqs, flags = {}, {}
for i = 1, math.min(#entries, op == 'resume' and #entries or arg) do
  local seq = tonumber(string.match(entries[i][1], '^(%d+)'))
  seqs[i] = seq
  local isArchived = archived[math.floor(seq / chunk)] and member(A, seq)
  flags[i] = flagsOf(member(U, seq), member(N, seq)) + (isArchived and 4 or 0)
end
return {seqs, flags, count(U), count(N)}
`;

const seqOfBody = (body) => Number(/"id":"[^"]*-(\d+)"/.exec(body)?.[1]);

/** Redis commands run since the last call (scripts' own calls included; EVALSHA and INFO not). */
async function commandsSince(redis) {
  const info = await redis.info('commandstats');
  await redis.config('RESETSTAT');
  let calls = 0;
  for (const [, name, n] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    // Subcommands count apart (config|resetstat).
    if (!['evalsha', 'eval', 'info', 'config', 'script'].includes(name.split('|')[0]))
      calls += Number(n);
  }
  return calls;
}

/**
 * The reads of `layoutName` on user `userId` (`held` notifications, the newest seq `last`), each
 * with the commands it ran: resume after the `page` newest, a newest-first inbox page of `page`, an
 * unread page of `page`, counts. `null` for a layout without a sketch.
 */
export async function readCosts(redis, layoutName, k, o) {
  const page = o.page;
  const last = o.perUser;
  const runs = {};
  let call;
  if (layoutName === 'today' || layoutName === 'today-by-commands') {
    const common = [...k.all, `${k.base}ch`, Date.now(), 'x', 0];
    const epoch = await redis.hget(k.m, 'epoch');
    call = {
      resume: async () => {
        const r = await redis.notifReplay(...common, epoch, last - page);
        return { seqs: r[5].map(seqOfBody), flags: r[6].map(Number) };
      },
      inbox: async () => {
        const r = await redis.notifList(...common, '', 0, page, 'inbox', '');
        return { seqs: r[1].map(seqOfBody), flags: r[2].map(Number) };
      },
      unread: async () => {
        const r = await redis.notifList(...common, '', 0, page, 'unread', '');
        return { seqs: r[1].map(seqOfBody), flags: r[2].map(Number) };
      },
      counts: async () => {
        const c = JSON.parse((await redis.notifCounts(...common))[0]);
        return { counts: [c.unread, c.unseen] };
      },
    };
  } else if (layoutName === 'stream-bitmap' || layoutName === 'stream-intsets') {
    const bitmap = layoutName === 'stream-bitmap';
    const command = bitmap ? 'readStreamBitmap' : 'readStreamIntsets';
    const extra = bitmap ? Math.ceil(o.historyLimit / 8) * 8 : o.intsetChunk;
    const keys = [k.h, k.m, k.u, k.n, k.a];
    const run = async (op, arg) => {
      const r = await redis[command](...keys, op, arg, extra);
      return op === 'counts'
        ? { counts: r.map(Number) }
        : { seqs: r[0].map(Number), flags: r[1].map(Number) };
    };
    call = {
      resume: () => run('resume', last - page),
      inbox: () => run('inbox', page),
      unread: () => run('unread', page),
      counts: () => run('counts', 0),
    };
  } else {
    return null;
  }
  for (const [op, fn] of Object.entries(call)) {
    await commandsSince(redis);
    const result = await fn();
    runs[op] = { ...result, commands: await commandsSince(redis) };
  }
  return runs;
}

/** Defines the sketches' scripts on `redis`. */
export function defineReadScripts(redis) {
  redis.defineCommand('readStreamBitmap', { numberOfKeys: 5, lua: STREAM_BITMAP });
  redis.defineCommand('readStreamIntsets', { numberOfKeys: 5, lua: STREAM_INTSETS });
}

/** The same answer as `reference` (today's): same seqs, flags and counts. */
export function sameAnswers(runs, reference) {
  if (!runs || !reference) return null;
  return Object.keys(reference).every(
    (op) =>
      JSON.stringify({ ...runs[op], commands: 0 }) ===
      JSON.stringify({ ...reference[op], commands: 0 }),
  );
}
