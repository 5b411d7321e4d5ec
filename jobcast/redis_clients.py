"""The one door to Redis: every client a Jobcast process opens is built here from `Settings`.

Callers say what the client is for (a worker's commands, a pool for REST requests, the hub's
pub/sub connection); how to reach Redis (the URL today) is decided here only, so a new way to
reach it changes this module and nothing else.
"""

from __future__ import annotations

import redis
import redis.asyncio as aioredis

from jobcast.settings import Settings

#: Seconds to wait for a TCP connection before calling Redis away.
CONNECT_TIMEOUT_SECONDS = 2.0


def sync_client(
    settings: Settings,
    *,
    timeout: float | None = None,
    connect_timeout: float | None = None,
    decode: bool = True,
) -> redis.Redis:
    """A sync client with its own pool (workers, background threads, CLI commands).

    `timeout` bounds each command's socket read and `connect_timeout` each connection attempt
    (None: wait as long as it takes)."""
    return redis.Redis.from_url(
        settings.broker_url,
        decode_responses=decode,
        socket_timeout=timeout,
        socket_connect_timeout=connect_timeout,
    )


def async_client(settings: Settings, *, keepalive: bool = False) -> aioredis.Redis:
    """An asyncio client with an unbounded pool (the hub's pub/sub connection, the demo)."""
    return aioredis.Redis.from_url(
        settings.broker_url,
        decode_responses=True,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_keepalive=keepalive,
    )


def async_pool_client(
    settings: Settings,
    *,
    max_connections: int,
    wait_seconds: float,
    timeout: float = 5.0,
    health_check_interval: float = 0,
) -> aioredis.Redis:
    """An asyncio client whose pool holds at most `max_connections`; a burst past it waits up to
    `wait_seconds` for a free one instead of failing at once with "Too many connections"."""
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.broker_url,
        max_connections=max_connections,
        timeout=wait_seconds,
        decode_responses=True,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=timeout,
        health_check_interval=health_check_interval,
    )
    return aioredis.Redis(connection_pool=pool)
