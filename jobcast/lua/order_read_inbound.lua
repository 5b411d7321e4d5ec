-- KEYS: [market, inbound]  ARGV: [count]
-- Returns the committed cursor, then one line per command after it: "<id>\t<kind>\t<payload>"
-- (payload: the order's compact JSON, or the id to cancel). One string parses far faster in
-- redis-py than thousands of nested stream entries (`workers.orders.store.read_inbound`).
local cursor = redis.call('HGET', KEYS[1], 'cursor') or '0-0'
local entries = redis.call('XRANGE', KEYS[2], '(' .. cursor, '+', 'COUNT', ARGV[1])
local out = {cursor}
for i, e in ipairs(entries) do
  out[i + 1] = e[1] .. '\t' .. e[2][2] .. '\t' .. e[2][4]
end
return table.concat(out, '\n')
