-- KEYS: [key]  ARGV: [value]
-- Delete the key only while it still holds `value`: a lease given up by its holder, a running
-- mark cleared by the delivery that set it. Never someone else's.
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
