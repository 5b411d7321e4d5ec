-- A lease one process of the cluster holds at a time (`jobcast.leases`).
-- KEYS: [lease]  ARGV: [holder, ttl ms]
-- Take the lease if free, extend it if ours; 1 when we hold it afterwards.
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
