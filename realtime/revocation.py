"""Revoked keys end their WebSockets: on the revocation's pub/sub message at once, and by a
periodic re-check of every open socket's key (a process whose pub/sub connection was down when
the key was revoked still closes them, within a ticker step)."""

from __future__ import annotations

import contextlib

from redis.exceptions import RedisError

from jobcast.keys import revoked_among
from realtime.runtime import Realtime


def close_sessions_of(rt: Realtime, key_ids: set[str]) -> None:
    """Close (4001, reason `key_revoked`) every local session authenticated with these keys."""
    for session in list(rt.sessions):
        principal = session.principal
        if principal is not None and principal.key_id in key_ids:
            session.revoke()


async def sweep(rt: Realtime) -> None:
    """Re-check the keys of this process's sessions, in one round trip."""
    key_ids = sorted(
        {s.principal.key_id for s in list(rt.sessions) if s.principal is not None} - {""}
    )
    with contextlib.suppress(RedisError, OSError):  # Redis away: the next tick checks again
        revoked = await revoked_among(rt.redis, key_ids)
        if revoked:
            close_sessions_of(rt, revoked)
