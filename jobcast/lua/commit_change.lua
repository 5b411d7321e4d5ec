-- The change of `commit.lua` as a function, also run after a claim (`files_start.lua`) or a
-- result's reservation (`files_finish.lua`): `argv` as that script's ARGV; its KEYS come first
-- in the caller's.
--#include apply_tallies.lua
--#include publish_event.lua

-- Whether the change may apply (`argv` as commit_change's): true, or false and the
-- expect_field's current value ('' when unset).
local function change_expected(argv)
  local expect_field = argv[1]
  if expect_field == '' then return true end
  local current = redis.call('HGET', KEYS[1], expect_field)
  for _, v in ipairs(cjson.decode(argv[2])) do
    if current == v or (v == '' and not current) then return true end
  end
  return false, current or ''
end

local function commit_change(argv)
  local record = KEYS[1]
  local ok, current = change_expected(argv)
  if not ok then return {0, current} end
  local fields = cjson.decode(argv[3])
  local flat = {}
  for k, v in pairs(fields) do flat[#flat + 1] = k; flat[#flat + 1] = v end
  if #flat > 0 then redis.call('HSET', record, unpack(flat)) end
  local record_ttl = tonumber(argv[4])
  if record_ttl > 0 then redis.call('EXPIRE', record, record_ttl) end
  apply_tallies(cjson.decode(argv[7]))
  for _, r in ipairs(cjson.decode(argv[8])) do redis.call('HDEL', KEYS[r[1]], r[2]) end
  for _, m in ipairs(cjson.decode(argv[9])) do
    redis.call(m[3] == 1 and 'SADD' or 'SREM', KEYS[m[1]], m[2])
  end
  local result = {1}
  local n = (#argv - 10) / 2
  for i = 1, n do
    local pubsub, body = argv[10 + 2 * i - 1], argv[10 + 2 * i]
    result[#result + 1] = publish_event(KEYS[1 + i], pubsub, body, argv[5], argv[6])
  end
  for _, r in ipairs(cjson.decode(argv[10])) do
    local list, seq, body = KEYS[r[1]], result[1 + r[2]], argv[10 + 2 * r[2]]
    redis.call('RPUSH', list, published_form(seq, body))
    redis.call('LTRIM', list, -r[3], -1)
    redis.call('EXPIRE', list, r[4])
  end
  return result
end
