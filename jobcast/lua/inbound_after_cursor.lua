-- A symbol's committed cursor, then one line per command after it, up to `count`:
-- "<id>\t<kind>\t<payload>" (payload: the order's compact JSON, or the id to cancel), all as one
-- string: it parses far faster in redis-py than thousands of nested stream entries
-- (`workers.orders.store.parse_inbound`). Included by order_read_inbound.lua and
-- order_lease_acquire.lua.
local function inbound_after_cursor(market, inbound, count)
  local cursor = redis.call('HGET', market, 'cursor') or '0-0'
  local entries = redis.call('XRANGE', inbound, '(' .. cursor, '+', 'COUNT', count)
  local out = {cursor}
  for i, e in ipairs(entries) do
    out[i + 1] = e[1] .. '\t' .. e[2][2] .. '\t' .. e[2][4]
  end
  return table.concat(out, '\n')
end
