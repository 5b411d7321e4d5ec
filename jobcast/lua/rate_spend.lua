-- GCRA rate limiting (`jobcast.ratelimit.spend`), on Redis' clock so api processes agree.
-- KEYS: [key]  ARGV: [emission interval ms, burst, cost]
-- Returns {allowed (0/1), remaining, retry_after_ms, reset_ms}. A cost of n spends n requests at
-- once (all or nothing): a batch of n orders, say.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = interval * tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval * tonumber(ARGV[3])
local allow_at = new_tat - tolerance
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
-- At least 1 ms: an interval below the timestamp's float precision would give PX 0 (an error).
redis.call('SET', KEYS[1], new_tat, 'PX', math.max(1, math.ceil(new_tat - now)))
local remaining = math.floor((now - allow_at) / interval)
return {1, remaining, 0, new_tat - now}
