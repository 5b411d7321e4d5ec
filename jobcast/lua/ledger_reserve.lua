-- Reserve bytes in a principal's stored-files ledger, atomically with the quota check; included
-- by the scripts that reserve (`quota_reserve.lua`, `rate_spend_reserve.lua`).
-- ledger_reserve(ledger, entry, bytes, expires_at, now, max_bytes (0: none), max_streaming (0:
-- none), max_active (0: none)); the ledger is a hash: entry -> "<bytes> <expires at, unix s>".
-- Entries past their expiry are dropped first: a crashed writer's reservation frees itself.
-- "streaming:" entries are uploads in progress, "upload:" ones uploads whose job is queued or
-- running; the entry being reserved never counts twice. Only a new upload (opening its
-- "streaming:" entry) is refused for the count of either; one already streaming goes on.
-- Returns {verdict, bytes used by the other entries, uploads streaming besides this one,
-- jobs queued or running}: verdict 0 reserved, 1 over the byte quota, 2 over the concurrent
-- uploads, 3 over the active jobs (nothing written).
local function ledger_reserve(ledger, entry, want_arg, expires_arg, now_arg, max_bytes_arg,
                              max_streaming_arg, max_active_arg)
  local want, expires, now = tonumber(want_arg), tonumber(expires_arg), tonumber(now_arg)
  local max_bytes, max_streaming = tonumber(max_bytes_arg), tonumber(max_streaming_arg)
  local max_active = tonumber(max_active_arg)
  local used, streaming, active, known = 0, 0, 0, false
  local all = redis.call('HGETALL', ledger)
  for i = 1, #all, 2 do
    local name, value = all[i], all[i + 1]
    local bytes, until_ = string.match(value, '^(%d+) ([%d.]+)$')
    if not bytes or tonumber(until_) <= now then
      redis.call('HDEL', ledger, name)
    elseif name == entry then
      known = true
    else
      used = used + tonumber(bytes)
      if string.sub(name, 1, 10) == 'streaming:' then streaming = streaming + 1 end
      if string.sub(name, 1, 7) == 'upload:' then active = active + 1 end
    end
  end
  local opening = not known and string.sub(entry, 1, 10) == 'streaming:'
  if max_streaming > 0 and opening and streaming >= max_streaming then
    return {2, used, streaming, active}
  end
  if max_active > 0 and opening and active >= max_active then
    return {3, used, streaming, active}
  end
  if max_bytes > 0 and used + want > max_bytes then
    return {1, used, streaming, active}
  end
  redis.call('HSET', ledger, entry, string.format('%d %.3f', want, expires))
  -- The ledger outlives its longest entry, never more: nobody's bytes stay counted forever.
  local ttl = math.ceil(expires - now)
  if redis.call('TTL', ledger) < ttl then redis.call('EXPIRE', ledger, ttl) end
  return {0, used, streaming, active}
end
