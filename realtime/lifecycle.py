"""Starting and stopping the push layer with an api process (called from the app's lifespan)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import redis.asyncio as aioredis

from jobcast.key_cache import KeyCache
from jobcast.redis_clients import async_client, async_pool_client
from jobcast.rediskeys import KEY_REVOKED_CHANNEL
from jobcast.settings import Settings
from realtime.hub import ChannelHub
from realtime.loops import stop_loop
from realtime.monitor import Monitor, release
from realtime.revocation import revocation_heard
from realtime.runtime import Realtime
from realtime.ticker import run_ticker

#: Redis connections the WebSockets of one process share. A burst of thousands of handshakes
#: waits for a free one (a blocking pool) instead of failing, and cannot starve REST routes,
#: which have their own pool.
POOL_SIZE = 32
POOL_WAIT_SECONDS = 10


def create_pool_client(settings: Settings) -> aioredis.Redis:
    return async_pool_client(
        settings, max_connections=POOL_SIZE, wait_seconds=POOL_WAIT_SECONDS, timeout=5
    )


@contextlib.asynccontextmanager
async def running_realtime(
    settings: Settings, key_cache: KeyCache | None = None
) -> AsyncIterator[Realtime]:
    """The hub (one pub/sub connection) and the monitor loop, for the life of the process. A
    revoked key's WebSockets are closed, and the key leaves `key_cache` (the REST routes')."""
    redis = create_pool_client(settings)
    hub = ChannelHub(
        # Keepalive (redis-py's default from 8.0, explicit for older ones) is the kernel's second
        # line behind the hub's pings: it still probes while this process is too busy to ping.
        async_client(settings, keepalive=True),
        max_backoff=settings.ws_reconnect_max_backoff,
        ping_interval=settings.ws_hub_ping_interval,
        ping_timeout=settings.ws_hub_ping_timeout,
    )
    rt = Realtime(settings=settings, redis=redis, hub=hub, key_cache=key_cache)
    monitor = Monitor(rt)
    hub.watch(KEY_REVOKED_CHANNEL, lambda key_id: revocation_heard(rt, key_cache, key_id))
    await hub.start()
    loops = [
        asyncio.create_task(monitor.run(), name="jobcast-monitor"),
        asyncio.create_task(run_ticker(rt), name="jobcast-ws-ticker"),
    ]
    try:
        yield rt
    finally:
        for loop in loops:
            await stop_loop(loop)
        await release(rt, monitor)
        await hub.stop()
        await redis.aclose(close_connection_pool=True)  # our own pool: closed with us
