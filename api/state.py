"""What an api process holds for its lifetime, built in the lifespan and reached through deps."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis.asyncio as aioredis

from api.task_sender import TaskSender
from jobcast.key_cache import KeyCache
from jobcast.redis_clients import async_pool_client
from jobcast.settings import Settings


@dataclass
class AppState:
    settings: Settings
    redis: aioredis.Redis
    tasks: TaskSender
    #: Keys this process has looked up, evicted on revocation (`jobcast.key_cache`).
    key_cache: KeyCache = field(default_factory=KeyCache)


#: Redis connections one api process may hold for REST; a burst past it waits for a free one
#: (up to REDIS_POOL_WAIT_SECONDS) instead of failing at once with "Too many connections".
REDIS_POOL_SIZE = 100
REDIS_POOL_WAIT_SECONDS = 5


def create_redis(settings: Settings) -> aioredis.Redis:
    # Short timeouts: a request must fail fast with 503 when Redis is away, not hang.
    return async_pool_client(
        settings,
        max_connections=REDIS_POOL_SIZE,
        wait_seconds=REDIS_POOL_WAIT_SECONDS,
        timeout=5,
        health_check_interval=15,
    )
