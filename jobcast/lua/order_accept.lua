-- Accept a request's orders, all in one step (`jobcast.orders.intake.accept_orders`).
-- KEYS: 6 per order: [record, cid index (or the record again), owner index, inbound, pending,
--        user stream], then the orders' metrics hash (counts the accepted ones: jobcast.tallies)
-- ARGV: [pending ms, stream maxlen, stream ttl, orders json: per order
--        [id, has cid, record fields as [field, value, ...], index member, compact entry,
--         user pubsub channel], then each order's event body, in the same order]
-- Returns one string, per order "0 <existing id>" for a repeated client_order_id, else
-- "1 <inbound id> <kicked>", joined by commas (one reply to parse, not thousands).
-- A request's orders share few symbols and owners: each pending flag is tried, and each user
-- stream's expiry renewed, once per request (the first try decides, as it would each time).
--#include publish_event.lua
local orders = cjson.decode(ARGV[4])
local out = {}
local accepted = 0
local tried = {}
local streams = {}
for i, o in ipairs(orders) do
  local k = (i - 1) * 6
  local existing = false
  if o[2] == 1 then
    existing = redis.call('GET', KEYS[k + 2])
    if not existing then redis.call('SET', KEYS[k + 2], o[1]) end
  end
  if existing then
    out[#out + 1] = '0 ' .. existing
  else
    local sid = redis.call('XADD', KEYS[k + 4], '*', 'c', 'new', 'o', o[5])
    redis.call('HSET', KEYS[k + 1], 'sid', sid, unpack(o[3]))
    redis.call('ZADD', KEYS[k + 3], 0, o[4])
    local kicked = 0
    if not tried[KEYS[k + 5]] then
      tried[KEYS[k + 5]] = true
      kicked = redis.call('SET', KEYS[k + 5], '1', 'NX', 'PX', ARGV[1]) and 1 or 0
    end
    publish_event(KEYS[k + 6], o[6], ARGV[4 + i], ARGV[2], nil)
    streams[KEYS[k + 6]] = true
    out[#out + 1] = '1 ' .. sid .. ' ' .. kicked
    accepted = accepted + 1
  end
end
for stream, _ in pairs(streams) do redis.call('EXPIRE', stream, ARGV[3]) end
if accepted > 0 then redis.call('HINCRBY', KEYS[#KEYS], 'accepted', accepted) end
return table.concat(out, ',')
