-- Append a cancel to the symbol's inbound log (`jobcast.orders.intake.request_cancel`).
-- KEYS: [record, inbound, pending]  ARGV: [owner, order id, pending ms, terminal statuses json]
-- Returns {'missing'}, {'<terminal status>'}, or {'ok', kicked}; a repeated cancel is 'ok'.
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner ~= ARGV[1] then return {'missing'} end
local status = redis.call('HGET', KEYS[1], 'status')
for _, terminal in ipairs(cjson.decode(ARGV[4])) do
  if status == terminal then return {status} end
end
if redis.call('HEXISTS', KEYS[1], 'cancel_sid') == 1 then return {'ok', 0} end
local sid = redis.call('XADD', KEYS[2], '*', 'c', 'cancel', 'id', ARGV[2])
redis.call('HSET', KEYS[1], 'cancel_sid', sid)
local kicked = redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[3]) and 1 or 0
return {'ok', kicked}
