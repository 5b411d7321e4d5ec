"""The one ownership rule: a record belongs to a principal, and to everyone else it does not exist.

Records are Redis hashes with an `owner` field. Another principal's record answers 404, the same
as a missing one, so ids cannot be probed. A record that existed but expired leaves a tombstone
(`jobcast.tombstones.tombstone_key`) and answers 410.
"""

from __future__ import annotations

import re

import redis.asyncio as aioredis

from api.errors import ApiError, not_found
from jobcast.keys import Principal
from jobcast.rediskeys import tombstone_key


async def load_owned(
    redis: aioredis.Redis,
    record_key: str,
    principal: Principal,
    what: str,
) -> dict[str, str]:
    """The record at `record_key` if `principal` owns it; otherwise 404, or 410 if it expired."""
    record: dict[str, str] = await redis.hgetall(record_key)  # type: ignore[assignment]
    return await check_owned(redis, record_key, record, principal, what)


async def check_owned(
    redis: aioredis.Redis,
    record_key: str,
    record: dict[str, str],
    principal: Principal,
    what: str,
) -> dict[str, str]:
    """`record`, read from `record_key`, if `principal` owns it; otherwise as `load_owned`."""
    if record and record.get("owner") == principal.id:
        return record
    if not record and await redis.get(tombstone_key(record_key)) == principal.id:
        raise ApiError(410, "gone", f"That {what} has expired and its data was deleted.")
    raise not_found(what)


def require_id(value: str, pattern: re.Pattern[str], what: str) -> str:
    """`value` when it has the shape of a `what` id, else 404 before any Redis call: a
    malformed id names no record, and must not reach a Redis key of another type (which would
    fail, and tell whose data exists)."""
    if not pattern.fullmatch(value):
        raise not_found(what)
    return value
