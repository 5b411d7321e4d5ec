"""Starting and stopping the push layer with an api process (called from the app's lifespan)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import redis.asyncio as aioredis

from jobcast.settings import Settings
from realtime.hub import ChannelHub
from realtime.monitor import Monitor, release
from realtime.runtime import Realtime
from realtime.ticker import run_ticker

#: Redis connections the WebSockets of one process share. A burst of thousands of handshakes
#: waits for a free one (a blocking pool) instead of failing, and cannot starve REST routes,
#: which have their own pool.
POOL_SIZE = 32
POOL_WAIT_SECONDS = 10


def create_pool_client(settings: Settings) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.broker_url, max_connections=POOL_SIZE, timeout=POOL_WAIT_SECONDS,
        decode_responses=True, socket_connect_timeout=2, socket_timeout=5,
    )  # fmt: skip
    return aioredis.Redis(connection_pool=pool)


@contextlib.asynccontextmanager
async def running_realtime(settings: Settings) -> AsyncIterator[Realtime]:
    """The hub (one pub/sub connection) and the monitor loop, for the life of the process."""
    redis = create_pool_client(settings)
    hub = ChannelHub(
        settings.broker_url,
        max_backoff=settings.ws_reconnect_max_backoff,
        ping_interval=settings.ws_hub_ping_interval,
        ping_timeout=settings.ws_hub_ping_timeout,
    )
    rt = Realtime(settings=settings, redis=redis, hub=hub)
    monitor = Monitor(rt)
    await hub.start()
    loops = [
        asyncio.create_task(monitor.run(), name="jobcast-monitor"),
        asyncio.create_task(run_ticker(rt), name="jobcast-ws-ticker"),
    ]
    try:
        yield rt
    finally:
        for loop in loops:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        await release(rt, monitor)
        await hub.stop()
        await redis.aclose()
