-- KEYS: [item, owner index]  ARGV: [max items (0: no cap), index member, field, value, ...]
-- Creates the item and its index entry unless the owner already keeps max items: the check and
-- the write are one step, so concurrent creates (any api process) never pass the cap. The index
-- counts the owner's items exactly: items never expire and a delete removes its entry
-- (`data_delete.lua`).
-- Returns 1 created, 0 at the cap (nothing written).
local cap = tonumber(ARGV[1])
if cap > 0 and redis.call('ZCARD', KEYS[2]) >= cap then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return 1
