-- A chat room's last messages and its stream's newest seq, read together
-- (`realtime.chat.history`).
-- KEYS: [message list, room stream]  ARGV: [count, scan, keep]
-- Rooms from before the list was written keep their messages only in the stream: the
-- chat.message events among its newest `scan` entries, in their published form, seed the list
-- (its last `keep`, expiring with the stream), so this runs once per such room (one with no
-- message among them seeds nothing and is scanned again, as every history was before the
-- list: cjson, not a text match, tells the type, whatever a message says). Read, seeded and
-- returned in one step with the stream's newest seq, the list holds exactly the messages at or
-- before that seq, as each message's commit keeps it.
-- Returns {the list's last `count` messages, oldest first; the newest seq or false}.
--#include publish_event.lua
local list, stream = KEYS[1], KEYS[2]
local count, scan, keep = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])

if redis.call('EXISTS', list) == 0 then
  local entries = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', scan)
  for i = #entries, 1, -1 do
    local seq, body = entries[i][1], entries[i][2][2]  -- an entry's one field: e = body
    if cjson.decode(body)['type'] == 'chat.message' then
      redis.call('RPUSH', list, published_form(seq, body))
    end
  end
  redis.call('LTRIM', list, -keep, -1)
  local ttl = redis.call('PTTL', stream)
  if ttl > 0 then redis.call('PEXPIRE', list, ttl) end
end

local newest = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
local messages = {}
if count > 0 then messages = redis.call('LRANGE', list, -count, -1) end
return {messages, newest[1] and newest[1][1] or false}
