-- KEYS: [lease, market, inbound, resends]  ARGV: [symbol]
-- When no worker holds the symbol's lease: {id of the first command after the cursor, when
-- the reconciler last sent the symbol a task (ms)}; else {'', 0}.
if redis.call('EXISTS', KEYS[1]) == 1 then return {'', 0} end
local cursor = redis.call('HGET', KEYS[2], 'cursor') or '0-0'
local first = redis.call('XRANGE', KEYS[3], '(' .. cursor, '+', 'COUNT', 1)
if #first == 0 then return {'', 0} end
return {first[1][1], tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0')}
