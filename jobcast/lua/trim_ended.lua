-- Drop an owner's oldest ended records before their retention (`jobcast.record_caps.trim`).
-- KEYS: [owner index, then every key the records name, each once (`jobcast.scripts.ScriptKeys`)]
-- ARGV: [ended statuses (JSON list), records (JSON): per record [index member, KEYS index of
--        the record, [KEYS index of each key that expires with it], [[KEYS index of a hash,
--        field to delete], ...]]]
-- The status is checked here, not trusted from the caller's read: a record is dropped only if
-- it is gone already or has ended. Returns how many index entries were removed.
local ended = {}
for _, status in ipairs(cjson.decode(ARGV[1])) do ended[status] = true end
local removed = 0
for _, r in ipairs(cjson.decode(ARGV[2])) do
  local status = redis.call('HGET', KEYS[r[2]], 'status')
  if not status or ended[status] then
    redis.call('DEL', KEYS[r[2]])
    for _, k in ipairs(r[3]) do redis.call('DEL', KEYS[k]) end
    for _, h in ipairs(r[4]) do redis.call('HDEL', KEYS[h[1]], h[2]) end
    removed = removed + redis.call('ZREM', KEYS[1], r[1])
  end
end
return removed
