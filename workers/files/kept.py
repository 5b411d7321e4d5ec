"""The files sweep's second duty: delete the uploads kept for want of a replica's confirmation
(`jobcast.kept_uploads`) once one confirms, instead of when they age out."""

from __future__ import annotations

from collections.abc import Callable

import redis

from jobcast import kept_uploads
from jobcast.jobs.records import TERMINAL
from jobcast.rediskeys import job_key

#: Listed uploads looked at per sweep (the oldest first; the rest wait for the next sweep).
BATCH = 500


def release_kept(
    client: redis.Redis, confirmed: Callable[[], bool], remove: Callable[[str], None]
) -> int:
    """Remove the listed uploads whose job has ended (or whose record is gone) once a replica
    has every write so far (`confirmed`); unlist those whose job runs again (a failover lost
    its end: that run's own end deletes the upload). Returns how many were removed."""
    listed = kept_uploads.oldest(client, BATCH)
    if not listed or not confirmed():
        return 0
    pipe = client.pipeline(transaction=False)
    for _, job_id in listed:
        pipe.hget(job_key(job_id), "status")
    statuses = pipe.execute()
    ended = [
        pair for pair, status in zip(listed, statuses, strict=True) if status in (None, *TERMINAL)
    ]
    for stored, _ in ended:
        remove(stored)
    kept_uploads.forget(client, listed)
    return len(ended)
