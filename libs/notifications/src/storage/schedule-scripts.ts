/*
 * The scheduled notifications of one user: S, a HASH dedupe key → state, beside the user's history
 * (same hash tag). The state of a key is one of
 *
 * - `<jobId>`   scheduled: that BullMQ job will deliver it;
 * - `x:<jobId>` cancelled: that job stores nothing, also on a retried attempt. Kept until the key is
 *   scheduled again or the job is removed from `delayed` by the cancel (one small field per
 *   cancelled notification otherwise: a marker dropped at the claim let a retried attempt deliver);
 * - `f:<jobId>` firing: that job has claimed it and is storing it (or will on its next attempt).
 *
 * BullMQ refuses custom job ids with exactly one `:` or more than two, so `x:` and `f:` values can
 * never be mistaken for a job id. Each script is atomic, so cancel and fire cannot both win: a cancel
 * that answers "cancelled" was before the claim, and the claim then fails; once claimed (or stored),
 * a cancel answers "fired".
 */

/**
 * Records that job ARGV[2] delivers key ARGV[1] (KEYS: S). The latest schedule of a key owns it, but
 * a job never takes back its own key once cancelled or firing. Returns 1 when recorded, 0 when the
 * job was cancelled.
 */
export const SCHEDULE_RECORD_SCRIPT = `
local state = redis.call('HGET', KEYS[1], ARGV[1])
if state == 'x:' .. ARGV[2] then return 0 end
if state == 'f:' .. ARGV[2] then return 1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/**
 * Job ARGV[2] is due and claims key ARGV[1] (KEYS: S). Returns 1 when it is to store it (the key is
 * now firing, also on a retried attempt; or nothing was recorded: a job whose producer delayed it
 * itself), 0 when it was cancelled (the marker stays, so a retried attempt skips it too) or another
 * job scheduled the key since.
 */
export const SCHEDULE_CLAIM_SCRIPT = `
local state = redis.call('HGET', KEYS[1], ARGV[1])
if state == false then return 1 end
if state == ARGV[2] or state == 'f:' .. ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], 'f:' .. ARGV[2])
  return 1
end
return 0
`;

/** Deletes key ARGV[1] of S (KEYS[1]) when its state is still ARGV[2]. Returns 1 when deleted. */
export const SCHEDULE_FORGET_SCRIPT = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
return redis.call('HDEL', KEYS[1], ARGV[1])
`;

/**
 * Cancels key ARGV[1] (KEYS: S, the user's dedupe index K, whose members are `k:<dedupeKey>`, and
 * the dedupe hash D of a history still in the 0.2.x layout).
 * Returns {'cancelled', jobId}, {'fired'} when it is stored or being stored, {'none'} when nothing
 * is scheduled under the key.
 */
export const SCHEDULE_CANCEL_SCRIPT = `
if redis.call('ZSCORE', KEYS[2], 'k:' .. ARGV[1]) or redis.call('HEXISTS', KEYS[3], 'k:' .. ARGV[1]) == 1 then
  return {'fired'}
end
local state = redis.call('HGET', KEYS[1], ARGV[1])
if state == false or string.sub(state, 1, 2) == 'x:' then return {'none'} end
if string.sub(state, 1, 2) == 'f:' then return {'fired'} end
redis.call('HSET', KEYS[1], ARGV[1], 'x:' .. state)
return {'cancelled', state}
`;
