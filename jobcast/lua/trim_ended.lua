-- Drop an owner's oldest ended records before their retention (`jobcast.record_caps.trim`).
-- KEYS: [owner index, then every key the records name, each once (`jobcast.scripts.ScriptKeys`)]
-- ARGV: [ended statuses (JSON list), records (JSON): per record [index member, KEYS index of
--        the record, [KEYS index of each key that goes with it], [[KEYS index of a hash, field
--        to delete], ...], KEYS index of its tombstone], seconds a dropped record's tombstone is
--        kept at most]
-- The status is checked here, not trusted from the caller's read. An ended record goes with
-- what goes with it, and its tombstone is cut short (it answers 410 a while, then 404: a
-- tombstone per order for a month would outweigh the records the cap keeps). A record already
-- gone only leaves the index: whoever removed it (its expiry, a trim racing this one) saw to
-- the rest, and a key that went with it may name a newer record by now (a client_order_id
-- taken again). Returns how many index entries were removed.
local ended = {}
for _, status in ipairs(cjson.decode(ARGV[1])) do ended[status] = true end
local tombstone_seconds = tonumber(ARGV[3])
local removed = 0
for _, r in ipairs(cjson.decode(ARGV[2])) do
  local status = redis.call('HGET', KEYS[r[2]], 'status')
  if status and ended[status] then
    redis.call('DEL', KEYS[r[2]])
    for _, k in ipairs(r[3]) do redis.call('DEL', KEYS[k]) end
    for _, h in ipairs(r[4]) do redis.call('HDEL', KEYS[h[1]], h[2]) end
    local ttl = redis.call('TTL', KEYS[r[5]])
    if ttl == -1 or ttl > tombstone_seconds then
      redis.call('EXPIRE', KEYS[r[5]], tombstone_seconds)
    end
  end
  if not status or ended[status] then
    removed = removed + redis.call('ZREM', KEYS[1], r[1])
  end
end
return removed
