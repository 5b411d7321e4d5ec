-- Change a record and announce it, atomically (`jobcast.events.commit`).
-- KEYS: [record, stream_1 .. stream_n, tally key_1 .. tally key_k, released hash_1 .. hash_m,
--        member set_1 .. set_j]
-- ARGV: [expect_field, expect_values_json, fields_json, record_ttl, maxlen, stream_ttl,
--        tallies_json, releases_json, memberships_json, pubsub_1, body_1, .. pubsub_n, body_n]
-- The record is changed only if record[expect_field] is one of expect_values (no check when
-- expect_field is ""); the tallies count the change, the releases ([[KEYS index, field]],
-- hash fields deleted) and the memberships ([[KEYS index, member, 1 to add | 0 to remove]])
-- apply, only then.
-- Returns {1, seq_1 .. seq_n} on commit, {0, current_value} otherwise.
--#include apply_tallies.lua
--#include publish_event.lua
local record = KEYS[1]
local expect_field = ARGV[1]
if expect_field ~= '' then
  local current = redis.call('HGET', record, expect_field)
  local allowed = cjson.decode(ARGV[2])
  local ok = false
  for _, v in ipairs(allowed) do
    if current == v or (v == '' and not current) then ok = true end
  end
  if not ok then return {0, current or ''} end
end
local fields = cjson.decode(ARGV[3])
local flat = {}
for k, v in pairs(fields) do flat[#flat + 1] = k; flat[#flat + 1] = v end
if #flat > 0 then redis.call('HSET', record, unpack(flat)) end
local record_ttl = tonumber(ARGV[4])
if record_ttl > 0 then redis.call('EXPIRE', record, record_ttl) end
apply_tallies(cjson.decode(ARGV[7]))
for _, r in ipairs(cjson.decode(ARGV[8])) do redis.call('HDEL', KEYS[r[1]], r[2]) end
for _, m in ipairs(cjson.decode(ARGV[9])) do
  redis.call(m[3] == 1 and 'SADD' or 'SREM', KEYS[m[1]], m[2])
end
local result = {1}
local n = (#ARGV - 9) / 2
for i = 1, n do
  local pubsub, body = ARGV[9 + 2 * i - 1], ARGV[9 + 2 * i]
  result[#result + 1] = publish_event(KEYS[1 + i], pubsub, body, ARGV[5], ARGV[6])
end
return result
