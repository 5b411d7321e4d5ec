"""What an api process holds for its lifetime, built in the lifespan and reached through deps."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis.asyncio as aioredis

from api.task_sender import TaskSender
from jobcast.key_cache import KeyCache
from jobcast.redis_clients import async_pool_client
from jobcast.replication import ReplicaCheck
from jobcast.scripts import ScriptLane
from jobcast.settings import Settings


@dataclass
class AppState:
    settings: Settings
    redis: aioredis.Redis
    tasks: TaskSender
    #: Keys this process has looked up, evicted on revocation (`jobcast.key_cache`).
    key_cache: KeyCache = field(default_factory=KeyCache)
    #: The spend and read of the hot read routes, on connections of its own (`ScriptLane`).
    script_lane: ScriptLane = field(init=False)
    #: Asked before deleting an upload on the strength of a commit (`jobcast.replication`).
    replicas: ReplicaCheck = field(init=False)

    def __post_init__(self) -> None:
        self.script_lane = ScriptLane(self.redis, SCRIPT_LANE_SIZE)
        self.replicas = ReplicaCheck.of(self.settings)


#: Redis connections one api process may hold for REST; a burst past it waits for a free one
#: (up to REDIS_POOL_WAIT_SECONDS) instead of failing at once with "Too many connections".
REDIS_POOL_SIZE = 100
REDIS_POOL_WAIT_SECONDS = 5
#: Connections of the script lane, as many as the pool's: every concurrent hot read gets one (a
#: read finding them all busy goes through the pool, which waits at its own cap).
SCRIPT_LANE_SIZE = REDIS_POOL_SIZE


def create_redis(settings: Settings) -> aioredis.Redis:
    # Short timeouts: a request must fail fast with 503 when Redis is away, not hang.
    return async_pool_client(
        settings,
        max_connections=REDIS_POOL_SIZE,
        wait_seconds=REDIS_POOL_WAIT_SECONDS,
        timeout=5,
        health_check_interval=15,
    )
