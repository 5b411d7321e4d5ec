-- KEYS: [key]  ARGV: [emission interval ms, cost]
-- Gives back `cost` spent requests (never below "nothing spent"): for budgets that should count
-- only what turned out badly (`jobcast.ratelimit.refund`). A full Redis (maxmemory) drops it, as
-- it drops the spend (`gcra_spend.lua`).
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local new_tat = tat - tonumber(ARGV[1]) * tonumber(ARGV[2])
if new_tat <= now then
  redis.call('DEL', KEYS[1])
else
  redis.pcall('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now))
end
return 1
