"""One process-wide ticker instead of a timer per connection: server heartbeats to every
WebSocket, chat presence refreshes for the rooms they are in, the refresh of their places
in their principals' connection counts, and a re-check that their keys are not revoked."""

from __future__ import annotations

import asyncio
import contextlib
import time

from redis.exceptions import RedisError

from jobcast.settings import Settings
from realtime import chat, connections, protocol, revocation
from realtime.runtime import Realtime


def tick_step(settings: Settings) -> float:
    """Seconds between refreshes: entries that expire refreshed every third of their TTL, so
    one failed refresh (Redis away for a moment) does not drop them yet."""
    ttls = (settings.chat_presence_ttl, settings.ws_connection_ttl)
    return min(settings.ws_heartbeat_interval, *(ttl / 3 for ttl in ttls))


def next_due(due: float, period: float, now: float) -> float:
    """When a periodic job is due next after running at `now` for `due`; a ticker that fell a
    whole period behind (a slow Redis under the refresh) starts afresh instead of catching up."""
    following = due + period
    return following if following > now else now + period


async def run_ticker(rt: Realtime) -> None:
    # Beats and refreshes each keep their own schedule, and the ticker sleeps until the earlier
    # one: beating only on refresh ticks spaced them 10 s and 20 s apart for an interval of 15.
    interval, step = rt.settings.ws_heartbeat_interval, tick_step(rt.settings)
    start = time.monotonic()
    next_beat, next_refresh = start + interval, start + step
    while True:
        await asyncio.sleep(max(0.0, min(next_beat, next_refresh) - time.monotonic()))
        now = time.monotonic()
        if now >= next_beat:
            next_beat = next_due(next_beat, interval, now)
            send_heartbeats(rt)
        if now >= next_refresh:
            next_refresh = next_due(next_refresh, step, now)
            await refresh_connections(rt)
            await refresh_presence(rt)
            await revocation.sweep(rt)


def send_heartbeats(rt: Realtime) -> None:
    beat = protocol.heartbeat()
    for session in list(rt.sessions):
        if session.subs is not None:  # authenticated: nothing comes before auth.ok
            session.conn.push(beat)


async def refresh_connections(rt: Realtime) -> None:
    # Counted sessions only (subs is set once counted in); one that is ending (its connection
    # stopped) is skipped, or this could add back the entry its cleanup just removed. One that
    # ends while the pipeline is in flight may still be added back: that entry expires in a TTL.
    entries = [
        (session.principal.id, session.id)
        for session in list(rt.sessions)
        if session.subs is not None and session.conn.accepting
    ]
    if entries:
        # Redis away: entries may expire meanwhile; the next refresh restores them.
        with contextlib.suppress(RedisError, OSError):
            await connections.refresh(rt.redis, entries, time.time(), rt.settings.ws_connection_ttl)


async def refresh_presence(rt: Realtime) -> None:
    rooms: set[str] = set()
    for session in list(rt.sessions):
        if session.subs is not None and session.subs.rooms:
            rooms |= session.subs.rooms
            # Redis away: entries may expire meanwhile; the next refresh restores them.
            with contextlib.suppress(RedisError, OSError):
                await session.subs.refresh_presence()
    # Rooms this process serves: if another process died, its users' leaves are announced here.
    for room in rooms:
        with contextlib.suppress(RedisError, OSError):
            await chat.reap(rt.redis, room, rt.settings.chat_empty_room_ttl)
