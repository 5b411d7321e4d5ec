-- KEYS: [lease, pending flag, reconciler metrics, resends]  ARGV: [pending ms, symbol, now ms]
-- Raises the symbol's pending flag (so new orders need not send a task too), notes and counts
-- the resend, unless a worker took the lease meanwhile.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
redis.call('HINCRBY', KEYS[3], 'symbol', 1)
redis.call('HSET', KEYS[4], ARGV[2], ARGV[3])
return 1
