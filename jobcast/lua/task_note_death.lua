-- KEYS: [running mark, deaths, tasks started]
-- ARGV: [ttl, this delivery's mark]
-- Mark this delivery running (`workers.attempts.note_deaths`) and count a task started for the
-- monitor's rate. A mark left by an earlier delivery is returned for the worker to judge (a
-- death, unless its process still lives: it could not clear its mark, Redis being away), and
-- counted with `task_count_death`.
-- Returns {deaths so far, the earlier delivery's mark or false}.
local left = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[1])
redis.call('INCR', KEYS[3])
return {tonumber(redis.call('GET', KEYS[2]) or '0'), left}
