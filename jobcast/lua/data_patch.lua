-- KEYS: [item]  ARGV: [owner, updated_at, field, value, ...]
-- Changes the item only if it still exists and belongs to owner: a PATCH racing a DELETE must
-- not bring back a half-written item.
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'updated_at', ARGV[2], unpack(ARGV, 3))
return 1
