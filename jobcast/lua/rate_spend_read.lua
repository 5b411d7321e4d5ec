-- KEYS: [rate key, record key]  ARGV: [emission interval ms, burst, cost]
-- Spends like rate_spend.lua and, when allowed, reads the record: one round trip for a rate-limited
-- read (`jobcast.ratelimit.spend_and_read`). Returns {decision, record's HGETALL (a flat list)};
-- a refused spend reads nothing.
--#include gcra_spend.lua
local decision = gcra_spend(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
if decision[1] == 0 then
  return {decision, {}}
end
return {decision, redis.call('HGETALL', KEYS[2])}
