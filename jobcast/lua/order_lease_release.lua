-- Give a symbol's lease up when its inbound log is drained (`workers.orders.runner`).
-- KEYS: [lease, inbound, market]  ARGV: [token]
-- Returns 1 when released, 0 when commands arrived after the cursor (keep draining), -1 if lost.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local cursor = redis.call('HGET', KEYS[3], 'cursor') or '0-0'
if #last > 0 and last[1][1] ~= cursor then return 0 end
redis.call('DEL', KEYS[1])
return 1
