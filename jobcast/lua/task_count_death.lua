-- KEYS: [deaths, task metrics]  ARGV: [ttl, metrics field]
-- A delivery found an earlier one's process dead (`workers.attempts.note_deaths`): count it.
-- Returns the deaths so far.
local deaths = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
return deaths
