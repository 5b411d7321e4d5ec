-- Claim one of a principal's file-job slots, atomically with the count.
-- KEYS[1]: the principal's running jobs, a sorted set: job id -> deadline (unix seconds).
-- ARGV: job id, now, deadline, cap.
-- A job whose process died without releasing its slot stops counting at its deadline (past
-- the hard time limit). A job already holding a slot (a redelivery) keeps it.
-- Returns 1 when the job may run, 0 when the principal already runs `cap` jobs.
local job, now, deadline, cap = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], job) and redis.call('ZCARD', KEYS[1]) >= cap then
  return 0
end
redis.call('ZADD', KEYS[1], deadline, job)
redis.call('EXPIRE', KEYS[1], math.ceil(deadline - now))
return 1
