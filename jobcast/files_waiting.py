"""Which principals have a file job waiting for a worker: what makes the fairness cap defer.

A job is waiting from when the api queues it until a worker starts it (or it is cancelled, or
found ended or expired). The fairness cap (`workers/files/fairness.py`) defers a principal's job
over its cap only while some *other* principal waits, so a lone principal uses every slot.

Two sorted sets, changed together: the principal's waiting jobs (job id -> enqueue time) and the
principals with any waiting job (principal -> its newest enqueue time). Sets, not counters, so
a crash between two steps leaves nothing to drift: an entry whose job never starts (its record
expired, its message lost for good) is pruned once older than the job retention.
Shared by the api (queue, cancel) and the `files` workers (start), hence in jobcast.
"""

from __future__ import annotations

import time

import redis
import redis.asyncio as aioredis

from jobcast import scripts
from jobcast.rediskeys import WAITING_OWNERS_KEY, files_waiting_key


def keys_of(owner: str) -> list[str]:
    return [files_waiting_key(owner), WAITING_OWNERS_KEY]


async def mark_waiting(client: aioredis.Redis, owner: str, job_id: str, keep: int) -> None:
    """The job is queued: it waits until a worker starts it (at most `keep` seconds)."""
    await scripts.run_async(client, "files_wait", keys_of(owner), _wait_args(owner, job_id, keep))


async def queue_mark_waiting(
    pipe: aioredis.client.Pipeline, owner: str, job_id: str, keep: int
) -> None:
    """`mark_waiting`, queued on a MULTI pipeline (the api's creation of the job): one command
    there, not the four it writes (each costs the api its packing and its reply's parsing)."""
    await scripts.run_async(pipe, "files_wait", keys_of(owner), _wait_args(owner, job_id, keep))


def _wait_args(owner: str, job_id: str, keep: int) -> list[str | int | float]:
    return [job_id, owner, time.time(), keep]


async def unmark_waiting_async(client: aioredis.Redis, owner: str, job_id: str) -> None:
    """The job will never start (cancelled while queued, or not queued at all)."""
    await scripts.run_async(client, "files_unwait", keys_of(owner), [job_id, owner])


def unmark_waiting(client: redis.Redis, owner: str, job_id: str) -> None:
    """The job left the queue for good (found ended or expired by its task)."""
    scripts.run(client, "files_unwait", keys_of(owner), [job_id, owner])
