"""How many WebSockets each principal holds, counted in Redis so every api process shares the cap.

One sorted set per principal: one member per connection (the session id), scored by when the
entry expires. Like chat presence, live connections are refreshed by the process-wide ticker; a
process that dies stops refreshing, and its connections stop counting once their entries expire.
Scores come from each api process's clock, as for presence: hosts need only roughly agreeing
clocks (NTP), far inside the TTL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import redis.asyncio as aioredis

from jobcast import scripts
from jobcast.rediskeys import ws_connections_key

#: Sessions refreshed per pipeline round trip: bounds the command buffer of a busy process.
REFRESH_BATCH = 500
#: Seconds the whole set outlives its newest entry, so a principal who left leaves no key.
KEY_GRACE = 60

#: (principal id, connection id) of one live connection.
Entry = tuple[str, str]


async def register(redis: aioredis.Redis, entry: Entry, limit: int, now: float, ttl: float) -> bool:
    """Count the connection in, unless its principal already holds `limit` live ones."""
    principal_id, connection_id = entry
    key, key_ttl = ws_connections_key(principal_id), int(ttl) + KEY_GRACE
    # Counted and added in one step: two api processes racing for a principal's last free place
    # cannot both get it.
    argv = [connection_id, repr(now), repr(now + ttl), str(limit), str(key_ttl)]
    counted = await scripts.run_async(redis, "ws_register", [key], argv)
    return bool(counted)


async def unregister(redis: aioredis.Redis, entry: Entry) -> None:
    principal_id, connection_id = entry
    await redis.zrem(ws_connections_key(principal_id), connection_id)


async def refresh(redis: aioredis.Redis, entries: Sequence[Entry], now: float, ttl: float) -> None:
    """Push back the expiry of live connections, one pipelined round trip per batch."""
    for batch in batched(entries, REFRESH_BATCH):
        async with redis.pipeline(transaction=False) as pipe:
            for key, members in expiries(batch, now + ttl).items():
                # A plain ZADD (not XX) also restores entries lost meanwhile (Redis restarted,
                # or away longer than the TTL): a live connection is always counted again.
                pipe.zadd(key, members)
                pipe.expire(key, int(ttl) + KEY_GRACE)
            await pipe.execute()


def expiries(entries: Iterable[Entry], expires_at: float) -> dict[str, dict[str, float]]:
    """The entries grouped by their principal's set: one ZADD per principal, not per socket."""
    grouped: dict[str, dict[str, float]] = {}
    for principal_id, connection_id in entries:
        grouped.setdefault(ws_connections_key(principal_id), {})[connection_id] = expires_at
    return grouped


def batched(items: Sequence[Entry], size: int) -> Iterator[Sequence[Entry]]:
    """`items` in consecutive slices of at most `size` (itertools.batched is Python 3.12+)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def refusal(limit: int) -> str:
    return (
        f"This principal already holds {limit} WebSocket connections, the most allowed at once; "
        "close the ones you no longer use before opening another."
    )
