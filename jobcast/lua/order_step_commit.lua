-- Commit one matching step (`workers.orders.store.commit_step`), only if this worker still holds
-- the symbol's lease (its fencing token) and the committed cursor is the one the step started
-- from: a crashed, slow or redelivered worker commits nothing twice.
-- KEYS: [market, lease, book, trades, inbound, record_1 .. record_n, stream_1 .. stream_m,
--        expiring_1 .. expiring_k, tombstone_1 .. tombstone_t, tally key_1 .. tally key_u]
-- ARGV: [payload json (see StepCommit.payload), pubsub_1, body_1 .. pubsub_m, body_m]
-- HSET/HDEL go in chunks: Lua's unpack() has a stack limit. Returns {1, 'ok'}, or
-- {0, 'lease' | 'cursor'} having changed nothing.
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
hset_pairs(book, p.book_set)
local nrec = #p.records
for i, fields in ipairs(p.records) do hset_pairs(KEYS[5 + i], fields) end
for _, t in ipairs(p.trades) do redis.call('LPUSH', trades, t) end
if #p.trades > 0 then redis.call('LTRIM', trades, 0, p.history - 1) end
hset_pairs(market, p.market)
redis.call('XTRIM', inbound, 'MINID', p.new_cursor)
redis.call('PEXPIRE', lease, p.lease_ms)
-- A step announces many events on few channels: each stream's expiry is renewed once, after.
local touched = {}
for i = 1, (#ARGV - 1) / 2 do
  local stream = KEYS[5 + nrec + i]
  publish_event(stream, ARGV[2 * i], ARGV[2 * i + 1], p.maxlen, nil)
  touched[stream] = true
end
for stream, _ in pairs(touched) do redis.call('EXPIRE', stream, p.stream_ttl) end
local after = 5 + nrec + (#ARGV - 1) / 2
for i = 1, p.expiring do redis.call('EXPIRE', KEYS[after + i], p.retention) end
for i, owner in ipairs(p.tombstone_owners) do
  redis.call('SET', KEYS[after + p.expiring + i], owner, 'EX', p.tombstone_ttl)
end
return {1, 'ok'}
