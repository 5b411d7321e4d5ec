-- Commit one matching step (`workers.orders.store.commit_step`), only if this worker still holds
-- the symbol's lease (its fencing token) and the committed cursor is the one the step started
-- from: a crashed, slow or redelivered worker commits nothing twice.
-- KEYS: [market, lease, book, trades, inbound], then every other key the step touches, each
--       once (records, streams, client_order_id entries, tombstones, tallies); the payload
--       names them by index (`jobcast.scripts.ScriptKeys`)
-- ARGV: [payload json (see StepCommit.script_call), body_1 .. body_m, trade_1 .. trade_t,
--       book entry_1 .. book entry_b]: event i goes to p.channels[p.events[i]], a [stream key
--       index, pubsub channel] pair; t is p.trades; book entry i is order p.book_set[i]'s
-- HSET/HDEL go in chunks: Lua's unpack() has a stack limit. With p.release, the lease is let go
-- too when nothing arrived after the new cursor (as order_lease_release.lua would, one round
-- trip later). Returns {1, 'ok' | 'released'}, or {0, 'lease' | 'cursor'} having changed nothing.
--#include apply_tallies.lua
--#include publish_event.lua
local p = cjson.decode(ARGV[1])
local market, lease, book, trades, inbound = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
if redis.call('GET', lease) ~= p.token then return {0, 'lease'} end
local cursor = redis.call('HGET', market, 'cursor') or '0-0'
if cursor ~= p.cursor then return {0, 'cursor'} end
apply_tallies(p.tallies)
local function hset_pairs(key, pairs_list)
  local flat = {}
  for _, kv in ipairs(pairs_list) do
    flat[#flat + 1] = kv[1]; flat[#flat + 1] = kv[2]
    if #flat >= 1000 then redis.call('HSET', key, unpack(flat)); flat = {} end
  end
  if #flat > 0 then redis.call('HSET', key, unpack(flat)) end
end
for i = 1, #p.book_del, 500 do
  redis.call('HDEL', book, unpack(p.book_del, i, math.min(i + 499, #p.book_del)))
end
local first_trade = 2 + #p.events
local first_entry = first_trade + p.trades
local flat = {}
for i, order_id in ipairs(p.book_set) do
  flat[#flat + 1] = order_id; flat[#flat + 1] = ARGV[first_entry + i - 1]
  if #flat >= 1000 then redis.call('HSET', book, unpack(flat)); flat = {} end
end
if #flat > 0 then redis.call('HSET', book, unpack(flat)) end
for _, r in ipairs(p.records) do redis.call('HSET', KEYS[r[1]], unpack(r, 2)) end
-- One LPUSH of many values pushes each in turn, as one LPUSH each would.
for i = first_trade, first_entry - 1, 500 do
  redis.call('LPUSH', trades, unpack(ARGV, i, math.min(i + 499, first_entry - 1)))
end
if p.trades > 0 then redis.call('LTRIM', trades, 0, p.history - 1) end
hset_pairs(market, p.market)
redis.call('XTRIM', inbound, 'MINID', p.new_cursor)
redis.call('PEXPIRE', lease, p.lease_ms)
-- A step announces many events on few channels: each stream's expiry is renewed once, after.
local touched = {}
for i, c in ipairs(p.events) do
  local channel = p.channels[c]
  publish_event(KEYS[channel[1]], channel[2], ARGV[1 + i], p.maxlen, nil)
  touched[c] = true
end
for c, _ in pairs(touched) do redis.call('EXPIRE', KEYS[p.channels[c][1]], p.stream_ttl) end
for _, k in ipairs(p.expiring) do redis.call('EXPIRE', KEYS[k], p.retention) end
for _, t in ipairs(p.tombstones) do
  redis.call('SET', KEYS[t[1]], t[2], 'EX', p.tombstone_ttl)
end
if p.release then
  local last = redis.call('XREVRANGE', inbound, '+', '-', 'COUNT', 1)
  if #last == 0 or last[1][1] == p.new_cursor then
    redis.call('DEL', lease)
    return {1, 'released'}
  end
end
return {1, 'ok'}
