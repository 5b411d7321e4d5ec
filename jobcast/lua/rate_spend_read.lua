-- KEYS: [rate key, record key]  ARGV: [emission interval ms, burst, cost, fields to leave out...]
-- Spends like rate_spend.lua and, when allowed, reads the record: one round trip for a rate-limited
-- read (`jobcast.ratelimit.spend_and_read`). Returns the decision's four numbers, then the record
-- as one JSON object (`{}` when the spend was refused, which reads nothing, or the record is
-- missing): redis-py parses a reply element by element in Python, and one string is a fifth of
-- the CPU of a record's 30-odd fields. A read that shows no large field (a job's result, often
-- tens of kilobytes) names it after the cost, so it is neither encoded, sent nor parsed.
--#include gcra_spend.lua
local decision = gcra_spend(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
local record = '{}'
if decision[1] == 1 then
  local flat = redis.call('HGETALL', KEYS[2])
  if #flat > 0 then
    local skip = {}
    for i = 4, #ARGV do
      skip[ARGV[i]] = true
    end
    local fields = {}
    for i = 1, #flat, 2 do
      if not skip[flat[i]] then
        fields[flat[i]] = flat[i + 1]
      end
    end
    record = cjson.encode(fields)
  end
end
return {decision[1], decision[2], decision[3], decision[4], record}
