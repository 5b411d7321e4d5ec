-- Accept a request's orders, all in one step (`jobcast.orders.intake.accept_orders`).
-- KEYS: the orders' metrics hash (counts the accepted ones: jobcast.tallies), the open-orders
--       hash (principal -> orders open), then every key the orders touch, each once
--       (`jobcast.scripts.ScriptKeys`); the payload names them by index
-- ARGV: [pending ms, stream maxlen, stream ttl, orders json: per order
--        [id, cid index key (0: no client_order_id), record fields as [field, value, ...],
--         owner index member, compact entry, user pubsub channel, and the keys of its record,
--         owner index, inbound log, pending flag and user stream, then its owner],
--        open orders allowed per owner (0: no cap), the order records' key prefix, then each
--        order's event body, in order]
-- Returns one string, per order "0 <existing id> <n>" for a repeated client_order_id (its
-- record is the n-th after the string), "2" for an order refused because its owner has the
-- most open orders allowed (nothing written), else "1 <inbound id> <kicked>", joined by commas
-- (one reply to parse, not thousands); with any repeat, {that string, each repeat's record as
-- [field, value, ...]}. A repeat's record is read here, not after: a record dropped past its
-- owner's records cap (or expired) between this script and a later read would be a 410 for a
-- POST. A client_order_id whose order is gone names nothing: the id is taken anew.
-- An owner's open count below 0 (orders accepted before it was kept ended since) counts as 0.
-- A request's orders share few symbols and owners: each pending flag is tried, each user
-- stream's expiry renewed and each owner index added to once per request (the first try
-- decides, as it would each time; the script is atomic, so when within it is unseen).
--#include publish_event.lua
local orders = cjson.decode(ARGV[4])
local max_open = tonumber(ARGV[5])
local record_prefix = ARGV[6]  -- + an order id: the record a repeated client_order_id names
local repeats = {}
local out = {}
local accepted = 0
local tried = {}
local streams = {}
local indexed = {}  -- owner index key -> {score, member, ...}
local open = {}  -- owner -> its open orders, as they will be after this script
for i, o in ipairs(orders) do
  local existing = false
  if o[2] ~= 0 then existing = redis.call('GET', KEYS[o[2]]) end
  if existing then
    local record = redis.call('HGETALL', record_prefix .. existing)
    if #record == 0 then existing = false else repeats[#repeats + 1] = record end
  end
  local owner = o[12]
  if not existing and not open[owner] then
    open[owner] = math.max(0, tonumber(redis.call('HGET', KEYS[2], owner) or '0'))
  end
  if existing then
    out[#out + 1] = '0 ' .. existing .. ' ' .. #repeats
  elseif max_open > 0 and open[owner] >= max_open then
    out[#out + 1] = '2'
  else
    if o[2] ~= 0 then redis.call('SET', KEYS[o[2]], o[1]) end
    open[owner] = open[owner] + 1
    local sid = redis.call('XADD', KEYS[o[9]], '*', 'c', 'new', 'o', o[5])
    redis.call('HSET', KEYS[o[7]], 'sid', sid, unpack(o[3]))
    local members = indexed[o[8]] or {}
    indexed[o[8]] = members
    members[#members + 1] = '0'; members[#members + 1] = o[4]
    local kicked = '0'
    if not tried[o[10]] then
      tried[o[10]] = true
      kicked = redis.call('SET', KEYS[o[10]], '1', 'NX', 'PX', ARGV[1]) and '1' or '0'
    end
    publish_event(KEYS[o[11]], o[6], ARGV[6 + i], ARGV[2], nil)
    streams[o[11]] = true
    out[#out + 1] = '1 ' .. sid .. ' ' .. kicked
    accepted = accepted + 1
  end
end
for key, members in pairs(indexed) do
  for i = 1, #members, 1000 do  -- unpack() has a stack limit
    redis.call('ZADD', KEYS[key], unpack(members, i, math.min(i + 999, #members)))
  end
end
for stream, _ in pairs(streams) do redis.call('EXPIRE', KEYS[stream], ARGV[3]) end
for owner, count in pairs(open) do redis.call('HSET', KEYS[2], owner, count) end
if accepted > 0 then redis.call('HINCRBY', KEYS[1], 'accepted', accepted) end
if #repeats == 0 then return table.concat(out, ',') end
return {table.concat(out, ','), unpack(repeats)}
