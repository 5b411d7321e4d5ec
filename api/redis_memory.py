"""Redis memory pressure, reported before writes start failing.

Redis runs with `maxmemory-policy noeviction`: past `maxmemory` every write is refused. So the
api reports how full it is — on `/readyz` (503 past `JOBCAST_REDIS_MEMORY_PRESSURE_RATIO`) and
as metrics — early enough for an operator to act.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
from prometheus_client import Gauge

USED = Gauge("jobcast_redis_memory_used_bytes", "Memory Redis uses (INFO used_memory).")
LIMIT = Gauge("jobcast_redis_memory_max_bytes", "Redis maxmemory; 0 when unlimited.")
RATIO = Gauge(
    "jobcast_redis_memory_used_ratio",
    "used_memory / maxmemory (0 when unlimited); writes fail at 1.",
)


@dataclass(frozen=True)
class RedisMemory:
    used: int
    limit: int

    @property
    def ratio(self) -> float:
        return self.used / self.limit if self.limit else 0.0

    def pressure(self, threshold: float) -> str | None:
        """What to tell the operator when past `threshold`, else None."""
        if self.ratio < threshold:
            return None
        return (
            f"Redis memory pressure: {self.used} of {self.limit} bytes of maxmemory in use "
            f"({self.ratio:.0%}); writes fail when it is full. Raise JOBCAST_REDIS_MAXMEMORY "
            "(Redis maxmemory) or free data."
        )


async def read_memory(redis: aioredis.Redis) -> RedisMemory:
    """Redis' memory figures, also published as the gauges above."""
    info = await redis.info("memory")
    memory = RedisMemory(int(info["used_memory"]), int(info.get("maxmemory", 0)))
    USED.set(memory.used)
    LIMIT.set(memory.limit)
    RATIO.set(memory.ratio)
    return memory
