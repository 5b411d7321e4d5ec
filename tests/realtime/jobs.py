"""Job records and their events for realtime tests, committed the way workers commit them."""

from __future__ import annotations

import secrets

import redis

from jobcast.events import commit
from jobcast.jobs.records import QUEUED, RUNNING, STARTABLE, SUCCEEDED, encode_fields, transition
from jobcast.rediskeys import job_key

TTL = 3600


def create_job(client: redis.Redis, owner: str) -> str:
    job_id = "j_" + secrets.token_hex(12)  # as the api makes them
    client.hset(
        job_key(job_id), mapping=encode_fields({"owner": owner, "status": QUEUED, "id": job_id})
    )
    return job_id


def progress(
    client: redis.Redis, job_id: str, owner: str, percent: float, on_user: bool = False
) -> str:
    """Commit a progress event; its seq on the job's channel, or (`on_user`) on the owner's
    `user.` channel: the two streams give their own ids (a millisecond may pass between them)."""
    change = transition(
        job_id,
        owner,
        expect=STARTABLE,
        fields={"status": RUNNING, "progress": {"percent": percent}},
        event="job.progress",
        data={"percent": percent},
        ttl=TTL,
    )
    return commit(client, change).seqs[1 if on_user else 0]


def succeed(client: redis.Redis, job_id: str, owner: str, result: dict[str, object]) -> str:
    change = transition(
        job_id,
        owner,
        expect=(RUNNING,),
        fields={"status": SUCCEEDED, "result": result},
        event="job.succeeded",
        data={"result": result},
        ttl=TTL,
    )
    return commit(client, change).seqs[0]
