-- GCRA rate limiting (`jobcast.ratelimit.spend`), on Redis' clock so api processes agree; included
-- by the scripts that spend. gcra_spend(key, emission interval ms, burst, cost) returns
-- {allowed (0/1), remaining, retry_after_ms, reset_ms}. A cost of n spends n requests at once
-- (all or nothing): a batch of n orders, say. When Redis is full (maxmemory, noeviction) the
-- spend is decided but cannot be recorded: the request goes on as if under the limit it was
-- checked against, so reads and deletes still work then (the deletes that make room); its own
-- writes are refused there (503 redis_full).
local function gcra_spend(key, interval_arg, burst_arg, cost_arg)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local interval = tonumber(interval_arg)
  local tolerance = interval * tonumber(burst_arg)
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval * tonumber(cost_arg)
  local allow_at = new_tat - tolerance
  if now < allow_at then
    return {0, 0, allow_at - now, tat - now}
  end
  -- At least 1 ms: an interval below the timestamp's float precision would give PX 0 (an error).
  redis.pcall('SET', key, new_tat, 'PX', math.max(1, math.ceil(new_tat - now)))
  local remaining = math.floor((now - allow_at) / interval)
  return {1, remaining, 0, new_tat - now}
end
