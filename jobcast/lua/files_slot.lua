-- Claim one of a principal's file-job slots, atomically with the count and with the look at
-- who else waits. While another principal that could run (itself under the cap) has a job
-- waiting, the job defers when its owner already runs `cap` jobs, or when that other principal
-- was served less recently (its last start is older: slots go round the waiting principals,
-- whatever the number of slots). With nobody else waiting it runs (work-conserving: a slot is
-- given up only to someone who can take it; two capped principals never wait for each other).
-- KEYS[1]: the principal's running jobs, a sorted set: job id -> deadline (unix seconds).
-- KEYS[2]: the principal's waiting jobs (job id -> enqueue time).
-- KEYS[3]: principals with a waiting job (principal -> newest enqueue time).
-- KEYS[4]: when each principal's last file job started (principal -> unix seconds).
-- ARGV: job id, principal id, now, deadline, cap (0: no fairness), cutoff (waiting entries
-- enqueued before it are stale: their job can no longer start), the running sets' key prefix
-- (+ principal id: another waiting principal's running set, read only; one Redis, no cluster
-- slots to match), seconds the start times are kept.
-- A job whose process died without releasing its slot stops counting at its deadline (past
-- the hard time limit). A job already holding a slot (a redelivery) keeps it.
-- Returns 1 when the job may run (it then stops waiting), 0 when it must wait.
local job, owner = ARGV[1], ARGV[2]
local now, deadline = tonumber(ARGV[3]), tonumber(ARGV[4])
local cap, cutoff, running_prefix = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]

local function last_start(who)
  return tonumber(redis.call('HGET', KEYS[4], who) or '0')
end

local function should_give_way(at_cap)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', cutoff)
  local mine = last_start(owner)
  for _, other in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
    if other ~= owner
        and redis.call('ZCOUNT', running_prefix .. other, '(' .. now, '+inf') < cap
        and (at_cap or last_start(other) < mine) then
      return true
    end
  end
  return false
end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local holding = redis.call('ZSCORE', KEYS[1], job)
if cap > 0 and not holding and should_give_way(redis.call('ZCARD', KEYS[1]) >= cap) then
  return 0
end
redis.call('ZADD', KEYS[1], deadline, job)
redis.call('EXPIRE', KEYS[1], math.ceil(deadline - now))
if not holding then  -- a redelivery is the same turn, not a new one
  redis.call('HSET', KEYS[4], owner, ARGV[3])  -- as sent: full precision
  redis.call('EXPIRE', KEYS[4], ARGV[8])
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
redis.call('ZREM', KEYS[2], job)
if redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[3], owner)
end
return 1
