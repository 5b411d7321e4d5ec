"""Per-principal quota on stored bytes, concurrent uploads and file jobs queued or running: one
ledger in Redis per principal.

Each stored file is an entry of its owner's ledger with its size and the time it is gone for
sure: an upload in progress (`streaming:`, refreshed while bytes arrive), an upload waiting
for its job (`upload:`, released by the worker when the job ends), a converted file
(`artifact:`, until its job's record expires). A job's result, kept whole in its record, is
an entry too (`result:`): reserved by the commit that stores it (`files_finish.lua`) to expire
with the record, and dropped with the record when a cap trims it. The `upload:` entries also
count the jobs queued or running: a new upload is refused while there are as many as the cap.
Reserving checks the quota and writes the entry in one script, so two api processes never both
take the last bytes; an entry past its expiry is dropped by the next reservation, so a crashed
process frees what it held.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

from jobcast import rediskeys, scripts
from jobcast.settings import Settings

#: Seconds an upload in progress holds its reservation without sending more bytes.
STREAMING_TTL = 300.0


def streaming_entry(token: str) -> str:
    return f"streaming:{token}"


def upload_entry(stored: str) -> str:
    return f"upload:{stored}"


def upload_held(owner: str, stored: str) -> tuple[str, str]:
    """Where an upload waiting for its job is held: its owner's ledger and its entry there (a
    commit that ends the job releases it, `jobcast.events.Commit.releases`)."""
    return rediskeys.quota_ledger_key(owner), upload_entry(stored)


def artifact_entry(job_id: str) -> str:
    return f"artifact:{job_id}"


def result_entry(job_id: str) -> str:
    return f"result:{job_id}"


RESERVED, OVER_BYTES, OVER_UPLOADS, OVER_ACTIVE_JOBS = 0, 1, 2, 3


@dataclass(frozen=True)
class Reservation:
    verdict: int
    used: int  # bytes held by the principal's other entries
    streaming: int  # the principal's other uploads in progress
    active: int  # the principal's file jobs queued or running (`upload:` entries but this one)


@dataclass(frozen=True)
class Limits:
    max_bytes: int  # 0: no quota
    max_streaming: int  # 0: no cap
    max_active: int  # file jobs queued or running when an upload starts; 0: no cap

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            settings.quota_stored_bytes,
            settings.quota_concurrent_uploads,
            settings.quota_active_jobs,
        )


NO_LIMITS = Limits(0, 0, 0)


def reserve_args(entry: str, size: int, ttl: float, limits: Limits) -> list[str | int | float]:
    now = time.time()
    caps = [limits.max_bytes, limits.max_streaming, limits.max_active]
    return [entry, size, now + ttl, now, *caps]


def reservation(raw: list[int]) -> Reservation:
    return Reservation(int(raw[0]), int(raw[1]), int(raw[2]), int(raw[3]))


def reserve(
    client: redis.Redis, owner: str, entry: str, size: int, ttl: float, limits: Limits
) -> Reservation:
    """Hold `size` bytes for `entry` if the owner's quota has room (`verdict` says)."""
    args = reserve_args(entry, size, ttl, limits)
    return reservation(
        scripts.run(client, "quota_reserve", [rediskeys.quota_ledger_key(owner)], args)
    )


def charge(client: redis.Redis, owner: str, entry: str, size: int, ttl: float) -> None:
    """Record a stored file without checking the quota (it is already on disk)."""
    args = reserve_args(entry, size, ttl, NO_LIMITS)
    scripts.run(client, "quota_reserve", [rediskeys.quota_ledger_key(owner)], args)


def release(client: redis.Redis, owner: str, entry: str) -> None:
    client.hdel(rediskeys.quota_ledger_key(owner), entry)
