"""Keeping a principal's ended records under a cap: past it the oldest go before their time.

An ended job or order is kept for its retention (a week by default) so its owner can still read
it; at the submit rates allowed, one principal could pile up millions of them in Redis. Past its
cap (`quota_job_records`, `quota_order_records`) the oldest ended records in the owner's index
are dropped as their expiry would drop them: the record, the keys that go with it (its event
stream, its client_order_id) and its index entry. Its tombstone is kept `TOMBSTONE_SECONDS`
at most: reading one answers 410 for that long, then 404 (tombstones kept for a month, one per
record, would outweigh what the cap keeps). Records still live (queued or running jobs, open
orders) are never dropped: caps of their own bound them (`quota_active_jobs`,
`quota_open_orders`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from jobcast import scripts
from jobcast.owned_index import id_of_member
from jobcast.redis_clients import redis_problem
from jobcast.rediskeys import tombstone_key

log = logging.getLogger("jobcast.record_caps")

#: Seconds a dropped record's tombstone is kept at most (it answers 410 meanwhile).
TOMBSTONE_SECONDS = 3600
#: Index entries read per round trip while trimming.
BATCH = 500
#: Index entries one trim examines at most: a principal whose oldest records are all still live
#: costs a bounded walk per request, not one over its whole index.
SCAN_LIMIT = 5000


@dataclass(frozen=True)
class Companions:
    """What goes with a dropped record: keys to delete, and (hash, field) pairs to delete."""

    keys: Sequence[str] = ()
    hash_fields: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class RecordKind:
    """One kind of owned record, as a trim sees it."""

    record_key: Callable[[str], str]  # record id -> key of its record hash
    ended: frozenset[str]  # statuses after which the record only waits for its expiry
    #: Fields read from each record besides `status`, handed to `companions`.
    fields: tuple[str, ...] = ()
    #: (owner, record id, the `fields`' values) -> what is dropped with the record.
    companions: Callable[[str, str, list[str | None]], Companions] = lambda *_: Companions()
    #: For the script: the ended statuses as JSON.
    ended_json: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ended_json", json.dumps(sorted(self.ended)))


async def trim(redis: aioredis.Redis, index: str, owner: str, cap: int, kind: RecordKind) -> int:
    """Drop the owner's oldest ended records until its index holds at most `cap` (0: no cap),
    skipping live ones; how many were dropped."""
    if cap <= 0:
        return 0
    excess = int(await redis.zcard(index)) - cap
    dropped, offset = 0, 0  # offset: entries at the front of the index that stay (live ones)
    while dropped < excess and offset < SCAN_LIMIT:
        members: list[str] = await redis.zrange(index, offset, offset + BATCH - 1)  # type: ignore[assignment]
        if not members:
            break
        examined, gone = await _drop_ended(redis, index, owner, kind, members, excess - dropped)
        dropped += gone
        offset += examined - gone
    return dropped


async def keep_under(
    redis: aioredis.Redis, index: str, owner: str, cap: int, kind: RecordKind
) -> None:
    """`trim` after a record was created: a failure is logged, never raised, since the record
    the request made stands (the next request trims again)."""
    try:
        await trim(redis, index, owner, cap, kind)
    except RedisError as exc:
        log.warning("ended records of %s not trimmed: %s", owner, redis_problem(exc, where=True))


async def _drop_ended(
    redis: aioredis.Redis,
    index: str,
    owner: str,
    kind: RecordKind,
    members: list[str],
    wanted: int,
) -> tuple[int, int]:
    """Drop up to `wanted` ended records of `members` (oldest first): (how many members were
    examined to find them, how many were dropped)."""
    ids = [id_of_member(m) for m in members]
    async with redis.pipeline(transaction=False) as pipe:
        for record_id in ids:
            pipe.hmget(kind.record_key(record_id), ["status", *kind.fields])
        rows: list[list[str | None]] = await pipe.execute()
    keys = scripts.ScriptKeys(index)
    payload: list[list[object]] = []
    examined = 0
    for member, record_id, (status, *values) in zip(members, ids, rows, strict=True):
        if len(payload) == wanted:
            break
        examined += 1
        if status is not None and status not in kind.ended:
            continue  # live: its own cap bounds it
        extra = kind.companions(owner, record_id, values)
        record_key = kind.record_key(record_id)
        payload.append(
            [
                member,
                keys.ref(record_key),
                [keys.ref(k) for k in extra.keys],
                [[keys.ref(h), f] for h, f in extra.hash_fields],
                keys.ref(tombstone_key(record_key)),
            ]
        )
    if not payload:
        return examined, 0
    args = [kind.ended_json, json.dumps(payload), TOMBSTONE_SECONDS]
    return examined, int(await scripts.run_async(redis, "trim_ended", keys.keys, args))
