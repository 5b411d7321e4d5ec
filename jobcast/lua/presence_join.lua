-- Join a chat room, deciding "first in" and changing the set in one step, so two connections of
-- one principal joining at once announce it once. The principal's rooms (KEYS[2], room -> when
-- its last entry there expires) cap how many rooms one principal is in at once: each room is a
-- stream in Redis, so joining without bound would grow Redis without bound.
-- KEYS: [set, principal's rooms]  ARGV: [member, prefix, now, expires at, key ttl, room, limit]
-- Returns 1 if first in, 0 if already in, -1 if the principal is in `limit` other rooms.
--#include presence_others_live.lua
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
if not redis.call('ZSCORE', KEYS[2], ARGV[6])
   and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[7]) then
  return -1
end
local first = not others_live(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], 'GT', ARGV[4], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return first and 1 or 0
