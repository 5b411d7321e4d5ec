-- The one place an event is published (included by every script that commits events).
-- Appends `body` (the event's JSON without `seq`) to the channel's capped stream, then
-- publishes it on `pubsub` with the stream id spliced in as its first key, `{"seq":"<id>",...`.
-- `jobcast.events.with_seq` writes the same form and `seq_of` reads it back: change all three
-- together. `ttl` (seconds) renews the stream's expiry; nil leaves that to the caller.
local function published_form(seq, body)
  return '{"seq":"' .. seq .. '",' .. string.sub(body, 2)
end

local function publish_event(stream, pubsub, body, maxlen, ttl)
  local seq = redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'e', body)
  if ttl then redis.call('EXPIRE', stream, ttl) end
  redis.call('PUBLISH', pubsub, published_form(seq, body))
  return seq
end
