-- KEYS: [rate key, ledger]  ARGV: [emission interval ms, burst, cost, then `quota_reserve.lua`'s
-- seven arguments]. Spends like rate_spend.lua and, when allowed, reserves like
-- quota_reserve.lua: the first reservation of an upload in the round trip of its request's spend
-- (`jobcast.ratelimit.spend_and_reserve`). Returns the decision's four numbers, then the
-- reservation's four (nothing reserved, all 0, when the spend was refused).
--#include gcra_spend.lua
--#include ledger_reserve.lua
local decision = gcra_spend(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
local reserved = {0, 0, 0, 0}
if decision[1] == 1 then
  reserved = ledger_reserve(KEYS[2], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10])
end
return {decision[1], decision[2], decision[3], decision[4],
        reserved[1], reserved[2], reserved[3], reserved[4]}
