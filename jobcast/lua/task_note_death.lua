-- KEYS: [running mark, deaths, task metrics, tasks started]
-- ARGV: [ttl, metrics field, this delivery's mark]
-- A mark left by an earlier delivery is a death: count it. Then mark this delivery running
-- (`workers.attempts.note_deaths`), and count a task started for the monitor's rate.
-- Returns {deaths so far, 1 if this call found a death else 0}.
local died = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[1])
redis.call('INCR', KEYS[4])
if died == 0 then return {tonumber(redis.call('GET', KEYS[2]) or '0'), 0} end
local deaths = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
return {deaths, 1}
