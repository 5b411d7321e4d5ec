-- KEYS: [a task's result key]  ARGV: [its new result (JSON), seconds to keep it (0: for ever)]
-- Celery's store of a task's result (`jobcast.celery_result_store`), in one step: left alone when it
-- already says SUCCESS (as Celery's own store does, so a lost duplicate never overwrites a
-- success), else written and published to whoever waits on it.
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current)['status'] == 'SUCCESS' then
    return 0
end
if tonumber(ARGV[2]) > 0 then
    redis.call('SETEX', KEYS[1], ARGV[2], ARGV[1])
else
    redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('PUBLISH', KEYS[1], ARGV[1])
return 1
