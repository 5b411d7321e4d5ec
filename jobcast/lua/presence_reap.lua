-- KEYS: [presence set]  ARGV: [now]
-- Take the expired entries out and return them, in one step: of several processes reaping the
-- same room at once, exactly one gets them (and announces the leaves).
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1]) end
return gone
