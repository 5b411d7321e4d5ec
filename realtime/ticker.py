"""One process-wide ticker instead of a timer per connection: server heartbeats to every
WebSocket, and chat presence refreshes for the rooms they are in."""

from __future__ import annotations

import asyncio
import contextlib
import time

from redis.exceptions import RedisError

from realtime import protocol
from realtime.runtime import Realtime


async def run_ticker(rt: Realtime) -> None:
    settings = rt.settings
    step = min(settings.ws_heartbeat_interval, settings.chat_presence_ttl / 3)
    next_beat = time.monotonic() + settings.ws_heartbeat_interval
    while True:
        await asyncio.sleep(step)
        if time.monotonic() >= next_beat:
            next_beat += settings.ws_heartbeat_interval
            beat = protocol.heartbeat()
            for session in list(rt.sessions):
                if session.subs is not None:  # authenticated: nothing comes before auth.ok
                    session.conn.push(beat)
        await refresh_presence(rt)


async def refresh_presence(rt: Realtime) -> None:
    for session in list(rt.sessions):
        if session.subs is not None and session.subs.rooms:
            # Redis away: entries may expire meanwhile; the next refresh restores them.
            with contextlib.suppress(RedisError, OSError):
                await session.subs.refresh_presence()
