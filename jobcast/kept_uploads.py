"""Uploads kept because no replica confirmed the write that made them needless.

Behind Sentinel, a worker (a job's outcome) or the api (a queued job's cancel) deletes an upload
only once a replica has that write (`jobcast.replication`). When none confirms in time the
upload is kept, and listed here: the files sweep deletes it once a replica confirms and the job
has still ended (`workers.files.kept`), minutes later rather than when it ages out a retention
period later. The list is written after the job's end, so a replica that has the entry has the
end too; a failover that loses the entry leaves the file to the age-based sweep.
"""

from __future__ import annotations

import time

import redis
import redis.asyncio as aioredis

from jobcast.rediskeys import KEPT_UPLOADS_KEY


def entry(stored: str, job_id: str) -> str:
    return f"{stored} {job_id}"


def note(client: redis.Redis, stored: str, job_id: str) -> None:
    client.zadd(KEPT_UPLOADS_KEY, {entry(stored, job_id): time.time()})


async def note_async(client: aioredis.Redis, stored: str, job_id: str) -> None:
    await client.zadd(KEPT_UPLOADS_KEY, {entry(stored, job_id): time.time()})


def oldest(client: redis.Redis, count: int) -> list[tuple[str, str]]:
    """Up to `count` listed uploads, the longest kept first: (stored name, job id). `client`
    decodes replies, as every Jobcast client does (`jobcast.redis_clients`)."""
    listed: list[str] = client.zrange(KEPT_UPLOADS_KEY, 0, count - 1)  # type: ignore[assignment]
    return [(stored, job_id) for stored, _, job_id in (item.partition(" ") for item in listed)]


def forget(client: redis.Redis, pairs: list[tuple[str, str]]) -> None:
    if pairs:
        client.zrem(KEPT_UPLOADS_KEY, *(entry(stored, job_id) for stored, job_id in pairs))
