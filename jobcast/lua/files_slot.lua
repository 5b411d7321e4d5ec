-- Claim one of a principal's file-job slots, atomically with the count and with the look at
-- who else waits: over the cap the job still runs unless another principal that is itself
-- under the cap has a job waiting (work-conserving: the cap only shares slots when someone can
-- take the one given up; a slot never idles while two capped principals wait for each other).
-- KEYS[1]: the principal's running jobs, a sorted set: job id -> deadline (unix seconds).
-- KEYS[2]: the principal's waiting jobs (job id -> enqueue time).
-- KEYS[3]: principals with a waiting job (principal -> newest enqueue time).
-- ARGV: job id, principal id, now, deadline, cap, cutoff (waiting entries enqueued before it
-- are stale: their job can no longer start), the running sets' key prefix (+ principal id:
-- another waiting principal's running set, read only; one Redis, no cluster slots to match).
-- A job whose process died without releasing its slot stops counting at its deadline (past
-- the hard time limit). A job already holding a slot (a redelivery) keeps it.
-- Returns 1 when the job may run (it then stops waiting), 0 when it must wait.
local job, owner = ARGV[1], ARGV[2]
local now, deadline = tonumber(ARGV[3]), tonumber(ARGV[4])
local cap, cutoff, running_prefix = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]

local function other_could_run()
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', cutoff)
  for _, other in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
    if other ~= owner
        and redis.call('ZCOUNT', running_prefix .. other, '(' .. now, '+inf') < cap then
      return true
    end
  end
  return false
end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if cap > 0 and not redis.call('ZSCORE', KEYS[1], job)
    and redis.call('ZCARD', KEYS[1]) >= cap and other_could_run() then
  return 0
end
redis.call('ZADD', KEYS[1], deadline, job)
redis.call('EXPIRE', KEYS[1], math.ceil(deadline - now))
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
redis.call('ZREM', KEYS[2], job)
if redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[3], owner)
end
return 1
