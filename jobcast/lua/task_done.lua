-- KEYS: [running mark, tasks finished]  ARGV: [this delivery's mark]
-- A delivery ends (`workers.attempts.CappedTask`): its running mark is cleared (never another
-- delivery's), and a task finished is counted for the monitor's rate.
--#include delete_if_holder.lua
redis.call('INCR', KEYS[2])
