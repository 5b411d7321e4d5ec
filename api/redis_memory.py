"""Redis memory pressure, reported before writes start failing.

Redis runs with `maxmemory-policy noeviction`: past `maxmemory` every write is refused. So the
api reports how full it is — on `/readyz` (503 past `JOBCAST_REDIS_MEMORY_PRESSURE_RATIO`) and
as metrics with the cluster's other figures (`api.cluster_metrics`) — early enough for an
operator to act.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis


@dataclass(frozen=True)
class RedisMemory:
    used: int
    limit: int
    #: `maxmemory-policy`: anything but noeviction drops keys instead (`jobcast.redis_durability`).
    policy: str | None = None

    @classmethod
    def from_info(cls, info: dict[str, Any]) -> RedisMemory:
        """From the answer to INFO memory."""
        policy = info.get("maxmemory_policy")
        return cls(int(info["used_memory"]), int(info.get("maxmemory", 0)), policy)

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
    return RedisMemory.from_info(await redis.info("memory"))
