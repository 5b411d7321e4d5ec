"""Revoked keys end their WebSockets: on the revocation's pub/sub message at once, and by a
periodic re-check of every open socket's key (a process whose pub/sub connection was down when
the key was revoked still closes them, within a ticker step)."""

from __future__ import annotations

import asyncio
import contextlib

from redis.exceptions import RedisError

from jobcast.key_cache import KeyCache
from jobcast.keys import KeyInfo, audit, key_info_async, revoked_among
from jobcast.schemas.text import escape_controls
from realtime.runtime import Realtime

#: Seconds the revocation's log line waits for the key's principal to be read.
LOOKUP_SECONDS = 2.0
#: The log lines being written (asyncio keeps only weak references to tasks).
_logging: set[asyncio.Task[None]] = set()


def revocation_heard(rt: Realtime, key_cache: KeyCache | None, key_id: str) -> None:
    """A key was revoked, by any process or `jobcast keys revoke` (its pub/sub message): it
    leaves `key_cache` (the REST routes'), its sockets here are closed, and the log says so.
    Every api process logs it: each closes its own sockets, and none of them may be running
    when the key was made."""
    if key_cache is not None:
        key_cache.evict(key_id)
    closed = close_sessions_of(rt, {key_id})
    task = asyncio.get_running_loop().create_task(_log_revoked(rt, key_id, closed))
    _logging.add(task)
    task.add_done_callback(_logging.discard)


async def _log_revoked(rt: Realtime, key_id: str, closed: int) -> None:
    info: KeyInfo | None = None
    with contextlib.suppress(RedisError, OSError, TimeoutError):  # the line goes out anyway
        async with asyncio.timeout(LOOKUP_SECONDS):
            info = await key_info_async(rt.redis, key_id)
    principal, name = (info.principal_id, info.name) if info else ("?", "?")
    audit.info(
        "API key %s revoked: principal %s (name %r); %d WebSocket session(s) of it closed here",
        escape_controls(key_id),  # the channel's text, from whoever published it
        principal,
        name,
        closed,
        extra={"key_id": key_id, "principal_id": principal, "sessions_closed": closed},
    )


def close_sessions_of(rt: Realtime, key_ids: set[str]) -> int:
    """Close (4001, reason `key_revoked`) every local session authenticated with these keys;
    how many there were."""
    closed = 0
    for session in list(rt.sessions):
        principal = session.principal
        if principal is not None and principal.key_id in key_ids:
            session.revoke()
            closed += 1
    return closed


async def sweep(rt: Realtime) -> None:
    """Re-check the keys of this process's sessions, in one round trip."""
    key_ids = sorted(
        {s.principal.key_id for s in list(rt.sessions) if s.principal is not None} - {""}
    )
    with contextlib.suppress(RedisError, OSError):  # Redis away: the next tick checks again
        revoked = await revoked_among(rt.redis, key_ids)
        if revoked:
            close_sessions_of(rt, revoked)
