"""A file job's place in the index of unfinished jobs, through a real api and a real worker:
in it from its submit until it ends, however it ends."""

from __future__ import annotations

from pathlib import Path

import redis

from jobcast.rediskeys import UNFINISHED_JOBS_KEY, job_key
from tests.conftest import StartWorker
from tests.workers.files.support import (
    SLOW_WORKER,
    JobsClient,
    await_event,
    await_terminal,
    is_progress_past,
    write_csv,
    write_large_csv,
)


def indexed(client: redis.Redis, job_id: str) -> bool:
    return bool(client.sismember(UNFINISHED_JOBS_KEY, job_id))


def status_and_indexed(client: redis.Redis, job_id: str) -> tuple[str, bool]:
    """The job's status and its place in the index, read at one instant (a worker may move it
    on between two separate reads)."""
    with client.pipeline(transaction=True) as pipe:
        pipe.hget(job_key(job_id), "status").sismember(UNFINISHED_JOBS_KEY, job_id)
        status, member = pipe.execute()
    return str(status), bool(member)


def test_a_job_is_indexed_from_its_submit_while_it_runs_and_leaves_when_it_succeeds(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    job_id = jobs.submit_ok(write_large_csv(tmp_path / "big.csv", 12 << 20))
    assert jobs.job(job_id)["status"] == "queued"
    assert indexed(redis_client, job_id)

    start_worker(queues="files", env=SLOW_WORKER)
    await_event(redis_client, job_id, is_progress_past(20_000))
    assert jobs.job(job_id)["status"] == "running"
    assert indexed(redis_client, job_id)

    assert await_terminal(redis_client, job_id, timeout=90)["type"] == "job.succeeded"
    assert not indexed(redis_client, job_id)


def test_a_failed_job_leaves_the_index(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    header_only = tmp_path / "h.csv"
    header_only.write_bytes(b"a,b,c\n")
    job_id = jobs.submit_ok(header_only)
    assert indexed(redis_client, job_id)

    start_worker(queues="files")

    assert await_terminal(redis_client, job_id)["type"] == "job.failed"
    assert not indexed(redis_client, job_id)


def test_a_queued_job_cancelled_leaves_the_index_at_once(
    jobs: JobsClient, redis_client: redis.Redis, tmp_path: Path
) -> None:
    job_id = jobs.submit_ok(write_csv(tmp_path / "small.csv", 100))  # no worker: it stays queued
    assert indexed(redis_client, job_id)

    assert jobs.http.delete(f"/jobs/{job_id}").json()["status"] == "cancelled"
    assert not indexed(redis_client, job_id)


def test_a_running_job_cancelled_stays_indexed_while_cancelling_and_leaves_once_cancelled(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    start_worker(queues="files", env=SLOW_WORKER)
    job_id = jobs.submit_ok(write_large_csv(tmp_path / "big.csv", 12 << 20))
    await_event(redis_client, job_id, is_progress_past(20_000))

    assert jobs.http.delete(f"/jobs/{job_id}").json()["status"] == "cancelling"
    # The worker may end it before the next read: the index agrees with the status either way.
    status, member = status_and_indexed(redis_client, job_id)
    assert member == (status == "cancelling"), status

    assert await_terminal(redis_client, job_id, timeout=90)["type"] == "job.cancelled"
    assert not indexed(redis_client, job_id)
