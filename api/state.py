"""What an api process holds for its lifetime, built in the lifespan and reached through deps."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from jobcast.settings import Settings


@dataclass
class AppState:
    settings: Settings
    redis: aioredis.Redis


def create_redis(settings: Settings) -> aioredis.Redis:
    # Short timeouts: a request must fail fast with 503 when Redis is away, not hang.
    return aioredis.Redis.from_url(
        settings.broker_url,
        decode_responses=True,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=15,
    )
