-- The slot claim of `files_slot.lua` as a function, also run before a job's start commit
-- (`files_start.lua`): `keys` and `argv` as that script's KEYS and ARGV; returns 1 or 0.
local function claim_slot(keys, argv)
  local job, owner = argv[1], argv[2]
  local now, deadline = tonumber(argv[3]), tonumber(argv[4])
  local cap, cutoff, running_prefix = tonumber(argv[5]), tonumber(argv[6]), argv[7]

  local function other_could_run()
    redis.call('ZREMRANGEBYSCORE', keys[3], '-inf', cutoff)
    for _, other in ipairs(redis.call('ZRANGE', keys[3], 0, -1)) do
      if other ~= owner
          and redis.call('ZCOUNT', running_prefix .. other, '(' .. now, '+inf') < cap then
        return true
      end
    end
    return false
  end

  redis.call('ZREMRANGEBYSCORE', keys[1], '-inf', now)
  if cap > 0 and not redis.call('ZSCORE', keys[1], job)
      and redis.call('ZCARD', keys[1]) >= cap and other_could_run() then
    return 0
  end
  redis.call('ZADD', keys[1], deadline, job)
  redis.call('EXPIRE', keys[1], math.ceil(deadline - now))
  redis.call('ZREMRANGEBYSCORE', keys[2], '-inf', cutoff)
  redis.call('ZREM', keys[2], job)
  if redis.call('ZCARD', keys[2]) == 0 then
    redis.call('ZREM', keys[3], owner)
  end
  return 1
end
