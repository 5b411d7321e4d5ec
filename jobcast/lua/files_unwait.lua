-- A file job stops waiting: off its principal's waiting set, and the principal off the set of
-- principals with a waiting job once it has none left (the two sets change together).
-- KEYS[1]: the principal's waiting jobs (job id -> enqueue time); KEYS[2]: waiting principals.
-- ARGV: job id, principal id.
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[2])
end
return 1
