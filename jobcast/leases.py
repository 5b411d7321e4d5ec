"""A lease in Redis that one process of the cluster holds at a time (the monitor's producer,
the reconciler): taken when free, extended by its holder, expiring when the holder goes silent."""

from __future__ import annotations

# KEYS: [lease]  ARGV: [holder, ttl ms]  Take the lease if free, extend it if ours; 1 when we
# hold it afterwards.
TAKE_OR_EXTEND_LUA = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
"""

# KEYS: [lease]  ARGV: [holder]  Drop the lease only if `holder` still holds it.
RELEASE_LUA = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end"
