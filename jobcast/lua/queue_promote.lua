-- KEYS: [a priority's list, the list of the priority above]  ARGV: [message]
-- Move the message next taken from the first list (kombu's BRPOP takes from the right) to be the
-- next taken from the second, only while it is still `message`: a worker may have taken it
-- since it was seen there. Returns 1 when moved.
if redis.call('LINDEX', KEYS[1], -1) ~= ARGV[1] then return 0 end
redis.call('RPUSH', KEYS[2], redis.call('RPOP', KEYS[1]))
return 1
