-- Take a symbol's matching lease (`workers.orders.runner.acquire_lease`). The token carries a
-- fence number bumped at each take, so a step of an older holder is refused.
-- Lowers the pending flag first, taken or not: orders accepted after this ask for a task again.
-- KEYS: [lease, fence, pending, market, inbound]  ARGV: [task id, lease ms, count]
-- Returns '' if another holds the lease, else the token, then a newline and the first batch to
-- match (`inbound_after_cursor`, `count` commands at most) when `count` is given.
--#include inbound_after_cursor.lua
redis.call('DEL', KEYS[3])
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, 1, #ARGV[1] + 1) ~= ARGV[1] .. ':' then return '' end
local token = ARGV[1] .. ':' .. redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
if not ARGV[3] then return token end
return token .. '\n' .. inbound_after_cursor(KEYS[4], KEYS[5], ARGV[3])
