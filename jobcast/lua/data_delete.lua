-- KEYS: [item, owner index]  ARGV: [owner]
-- Deletes the item and its index entry, only if it belongs to owner.
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
local member = redis.call('HGET', KEYS[1], 'index_member')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], member)
return 1
