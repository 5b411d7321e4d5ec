-- KEYS: [key]  ARGV: [emission interval ms, burst, cost]
-- Returns {allowed (0/1), remaining, retry_after_ms, reset_ms} (`gcra_spend.lua`).
--#include gcra_spend.lua
return gcra_spend(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
