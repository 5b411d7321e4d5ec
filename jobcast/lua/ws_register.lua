-- Drop expired entries, then count and add in one step: two api processes racing for a
-- principal's last free place cannot both get it (`realtime.connections.register`).
-- KEYS: [set]  ARGV: [connection id, now, expires at, limit, key ttl s]  Returns 1 if counted in.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if not redis.call('ZSCORE', KEYS[1], ARGV[1])
   and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
