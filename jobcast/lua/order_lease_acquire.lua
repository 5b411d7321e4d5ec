-- Take a symbol's matching lease (`workers.orders.runner.acquire_lease`). The token carries a
-- fence number bumped at each take, so a step of an older holder is refused.
-- Lowers the pending flag first, taken or not: orders accepted after this ask for a task again.
-- KEYS: [lease, fence, pending]  ARGV: [task id, lease ms]
-- Returns the token, or '' if another holds it.
redis.call('DEL', KEYS[3])
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, 1, #ARGV[1] + 1) ~= ARGV[1] .. ':' then return '' end
local token = ARGV[1] .. ':' .. redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return token
