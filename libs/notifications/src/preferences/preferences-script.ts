/**
 * A preferences change, atomic on the user's preferences hash (`i:<category>` / `f:<category>` →
 * "0" when off; a missing field means on). KEYS: preferences. ARGV: the most categories that may have
 * a setting, how many "off" fields follow, the "off" fields, then the "on" fields (to delete).
 * Returns {1, fields...} (applied; the whole hash after it, as HGETALL) or {0, categories} when the
 * change would leave more categories with a setting than allowed, and more than before (nothing
 * written).
 */
export const PREFERENCES_UPDATE_SCRIPT = `
local key, max, offCount = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local function categoriesOf(fields)
  local names, count = {}, 0
  for field in pairs(fields) do
    local name = string.sub(field, 3)
    if not names[name] then
      names[name] = true
      count = count + 1
    end
  end
  return count
end
local fields = {}
for _, field in ipairs(redis.call('HKEYS', key)) do fields[field] = true end
local before = categoriesOf(fields)
for i = 3, 2 + offCount do fields[ARGV[i]] = true end
for i = 3 + offCount, #ARGV do fields[ARGV[i]] = nil end
local after = categoriesOf(fields)
-- A change that does not add categories (turning settings back on) is always taken.
if after > max and after > before then return {0, after} end
for i = 3, 2 + offCount do redis.call('HSET', key, ARGV[i], '0') end
if #ARGV > 2 + offCount then redis.call('HDEL', key, unpack(ARGV, 3 + offCount)) end
local result = redis.call('HGETALL', key)
table.insert(result, 1, 1)
return result
`;
