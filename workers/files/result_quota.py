"""A file job's result against its owner's stored-bytes quota: it is kept whole in the job's
record, in the Redis every principal shares, so it is charged as an upload or a converted file
is (`jobcast.quotas`) until the record goes."""

from __future__ import annotations

import contextlib

import redis

from jobcast import quotas
from jobcast.events import Holding
from jobcast.settings import Settings
from workers.files.errors import FileJobError


def reserve_result(
    client: redis.Redis,
    settings: Settings,
    owner: str,
    job_id: str,
    size: int,
    ttl: int,
) -> Holding:
    """Hold the result's `size` bytes (as the record stores them) if the owner's quota has room,
    else storage_quota_exceeded; what the outcome's commit sets to keep them as long as the
    record (`ttl` seconds from it). Until that commit the hold is short
    (`RESULT_RESERVATION_TTL`), so nothing lost in between stays counted."""
    limits = quotas.Limits.of(settings)
    entry = quotas.result_entry(job_id)
    held = quotas.reserve(client, owner, entry, size, quotas.RESULT_RESERVATION_TTL, limits)
    if held.verdict != quotas.RESERVED:
        left = max(0, limits.max_bytes - held.used)
        raise FileJobError(
            "storage_quota_exceeded",
            f"The result takes {size:,} bytes, past what your storage quota has left "
            f"({left:,} of {limits.max_bytes:,} bytes): a kept result counts against it until "
            "its job expires. Group by shorter or fewer columns, or wait for your older jobs to "
            "expire.",
        )
    return quotas.result_holding(owner, job_id, size, ttl)


def release_result(client: redis.Redis, owner: str, job_id: str) -> None:
    """Let go of a result's reservation its outcome did not commit (the job had ended)."""
    with contextlib.suppress(redis.RedisError):  # else it expires shortly
        quotas.release(client, owner, quotas.result_entry(job_id))
