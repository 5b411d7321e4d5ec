"""The reconciler reads the unfinished jobs from their index, against a real Redis and broker
(no worker runs): it finds a stuck job there, drops what no longer belongs, and builds the index
once on a Redis written without it."""

from __future__ import annotations

import json
import time

import redis

from jobcast.events import commit
from jobcast.jobs.records import FAILED, QUEUED, SUCCEEDED, transition
from jobcast.rediskeys import UNFINISHED_JOBS_BUILT_KEY, UNFINISHED_JOBS_KEY, job_key
from tests.workers.conftest import MakeReconciler
from workers.files.state import JobState
from workers.reconciler import Reconciler
from workers.unfinished_jobs import unfinished_jobs


def submitted(client: redis.Redis, job_id: str) -> None:
    """A job created now by the commit the api makes it with."""
    fields = {"id": job_id, "owner": "p_alice", "status": QUEUED, "created_at": time.time()}
    change = transition(
        job_id, "p_alice", expect=("",), fields=fields, event="job.queued", ttl=3600
    )
    assert commit(client, change).committed


def record(client: redis.Redis, job_id: str, status: str) -> None:
    """A record as a version without the index wrote it: no index entry."""
    fields = {"status": status, "owner": "p_alice", "created_at": str(time.time() - 600)}
    client.hset(job_key(job_id), mapping=fields)


def index(client: redis.Redis) -> set[str]:
    return set(client.smembers(UNFINISHED_JOBS_KEY))  # type: ignore[arg-type]


def sent_ids(client: redis.Redis) -> list[str]:
    return [json.loads(raw)["headers"]["id"] for raw in client.lrange("files", 0, -1)]


def test_a_job_stays_indexed_through_its_retries_until_its_outcome(
    redis_client: redis.Redis,
) -> None:
    submitted(redis_client, "j_1")
    state = JobState(redis_client, "j_1", "p_alice", ttl=3600, operation="profile")
    assert state.start(1, size=30).committed
    assert state.retrying(1, {"code": "io_error", "message": "x"}, delay=1.0).committed
    assert index(redis_client) == {"j_1"}
    assert state.start(2, size=30).committed
    assert index(redis_client) == {"j_1"}

    assert state.finish(FAILED, error={"code": "io_error", "message": "x"}).committed

    assert index(redis_client) == set()


def test_a_stuck_job_is_found_in_the_index_not_by_reading_every_record(
    make_reconciler: MakeReconciler, redis_client: redis.Redis
) -> None:
    reconciler = make_reconciler(0.05)  # its `job.queued` event is its last: idle from now
    redis_client.set(UNFINISHED_JOBS_BUILT_KEY, "1")  # a Redis the index was built on
    submitted(redis_client, "j_lost")  # its message lost
    record(redis_client, "j_unindexed", "queued")  # no commit wrote it: not read
    time.sleep(0.1)

    assert reconciler.tick() == []
    resent = reconciler.tick()

    assert [(s.key, s.status) for s in resent] == [("j_lost", "queued")]
    assert sent_ids(redis_client) == ["j_lost"]


def test_entries_whose_record_ended_or_expired_are_dropped_by_the_sweep(
    redis_client: redis.Redis,
) -> None:
    redis_client.set(UNFINISHED_JOBS_BUILT_KEY, "1")
    submitted(redis_client, "j_waiting")
    submitted(redis_client, "j_expired")
    redis_client.pexpire(job_key("j_expired"), 1)  # its retention ran out before it ended
    record(redis_client, "j_ended", SUCCEEDED)  # ended by a process of an older version
    redis_client.sadd(UNFINISHED_JOBS_KEY, "j_ended")
    while redis_client.exists(job_key("j_expired")):
        time.sleep(0.01)

    assert [row[0] for row in unfinished_jobs(redis_client)] == ["j_waiting"]
    assert index(redis_client) == {"j_waiting"}


def test_a_redis_written_without_the_index_has_its_unfinished_jobs_found_once(
    reconciler: Reconciler, redis_client: redis.Redis
) -> None:
    record(redis_client, "j_old_running", "running")
    record(redis_client, "j_old_done", SUCCEEDED)
    submitted(redis_client, "j_new")

    assert reconciler.tick() == []
    assert index(redis_client) == {"j_old_running", "j_new"}
    assert redis_client.exists(UNFINISHED_JOBS_BUILT_KEY)
    resent = reconciler.tick()

    assert [(s.key, s.status) for s in resent] == [("j_old_running", "running")]
    assert sent_ids(redis_client) == ["j_old_running"]
