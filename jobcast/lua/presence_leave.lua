-- Leave a chat room; "last out" is decided with the change, as in presence_join.lua.
-- KEYS: [set, principal's rooms]  ARGV: [member, prefix, now, room]
-- Returns 1 if this removed the principal's last live entry.
--#include presence_others_live.lua
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
if others_live(KEYS[1], ARGV[1], ARGV[2], ARGV[3]) then return 0 end
redis.call('ZREM', KEYS[2], ARGV[4])
return 1
