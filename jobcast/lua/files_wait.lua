-- A file job starts waiting: on its principal's waiting set, and the principal on the set of
-- principals with a waiting job (the two sets change together), each kept as long as the job.
-- KEYS[1]: the principal's waiting jobs (job id -> enqueue time); KEYS[2]: waiting principals.
-- ARGV: job id, principal id, enqueue time, seconds to keep.
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
