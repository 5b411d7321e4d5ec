"""A worker's pool process killed, or its Redis connections dropped, mid-job: the job still
finishes once with the same result. Apart from test_worker_failures.py because these are the
longest tests there, and `make test` gives each file to one process."""

from __future__ import annotations

import signal
from pathlib import Path

import psutil
import pytest
import redis
from celery import Celery

import celeryconfig
from jobcast.rediskeys import job_key
from jobcast.settings import Settings
from jobcast.storage_paths import upload_path
from jobcast.task_names import FILE_JOB_TASK
from tests.conftest import StartWorker
from tests.support.processes import wait_for
from tests.workers.files.support import (
    SLOW_WORKER,
    JobsClient,
    await_event,
    await_terminal,
    comparable,
    drop_redis_connections,
    is_progress_past,
    terminal_events,
    write_large_csv,
)

#: A job in SLOW_WORKER's batches still running, hundreds of batches from its end, once the
#: 20,000 rows awaited (about 1 MiB) are read, for a test that acts on it at once; each test runs
#: it twice, so each MiB more is waited for again (30 MiB took 4-5 s a test).
JOB_BYTES = 12 << 20


def test_worker_killed_mid_job_redelivers_and_finishes_once_with_the_same_result(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    worker = start_worker(queues="files", env=SLOW_WORKER)
    path = write_large_csv(tmp_path / "big.csv", JOB_BYTES)
    job_id = jobs.submit_ok(path)
    await_event(redis_client, job_id, is_progress_past(20_000))

    (pool,) = psutil.Process(worker.popen.pid).children()
    pool.send_signal(signal.SIGKILL)

    final = await_terminal(redis_client, job_id, timeout=90)
    assert final["type"] == "job.succeeded"
    assert len(terminal_events(redis_client, job_id)) == 1
    assert jobs.job(job_id)["attempt"] == 2
    undisturbed = jobs.submit_ok(path)
    await_terminal(redis_client, undisturbed, timeout=90)
    assert comparable(jobs.result(job_id)) == comparable(jobs.result(undisturbed))


@pytest.mark.parametrize("whole_worker", [False, True], ids=["pool-process", "whole-worker"])
def test_redis_connections_dropped_mid_job_still_finish_once_with_the_same_result(
    jobs: JobsClient,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    tmp_path: Path,
    whole_worker: bool,
) -> None:
    worker = start_worker(queues="files", env=SLOW_WORKER)
    # Twice the file when two processes' connections are dropped: at 12 MiB the rest of the
    # job once outran the drop on a slow VM (found `succeeded` at the check below).
    path = write_large_csv(tmp_path / "big.csv", JOB_BYTES * (2 if whole_worker else 1))
    job_id = jobs.submit_ok(path)
    await_event(redis_client, job_id, is_progress_past(20_000))
    main = psutil.Process(worker.popen.pid)
    (pool,) = main.children()

    # The whole worker also loses its broker connection: Celery then requeues the running task.
    for process in [main, pool] if whole_worker else [pool]:
        assert drop_redis_connections(redis_client, process) > 0
    # Dropped between two commands, the run reconnects and goes on; dropped while a progress
    # write waited for its reply (more likely on a loaded machine), the run ends `retrying` at
    # once and its retry does the job: either way, not over yet.
    assert redis_client.hget(job_key(job_id), "status") in ("running", "retrying")

    final = await_terminal(redis_client, job_id, timeout=60)
    assert final["type"] == "job.succeeded"
    assert len(terminal_events(redis_client, job_id)) == 1
    assert jobs.job(job_id)["status"] == "succeeded"
    undisturbed = jobs.submit_ok(path)
    await_terminal(redis_client, undisturbed, timeout=60)
    assert comparable(jobs.result(job_id)) == comparable(jobs.result(undisturbed))


def test_a_run_whose_job_another_delivery_took_over_leaves_the_upload_to_it(
    jobs: JobsClient,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    # Seen in the soak: a Redis kill made Celery requeue a running file job; the first delivery
    # hit Redis loading, committed `retrying` and sent its retry, the second ran to the end,
    # found the job no longer running (its commit refused), and still removed the upload: the
    # retry then failed `upload_missing`.
    start_worker(queues="files", env=SLOW_WORKER)
    # Larger: the commit below races a progress write every batch, and at 12 MiB, three of
    # these files at once on two cores, the job had ended before it landed.
    path = write_large_csv(tmp_path / "big.csv", 30 << 20)
    job_id = jobs.submit_ok(path)
    await_event(redis_client, job_id, is_progress_past(20_000))
    stored = redis_client.hget(job_key(job_id), "stored")

    # The other delivery's commit (made only while this run still runs) and its retry, as
    # Celery sends it (progress keeps changing the record: try again until it lands)
    with redis_client.pipeline() as pipe:
        while True:
            pipe.watch(job_key(job_id))
            assert pipe.hget(job_key(job_id), "status") == "running"
            pipe.multi()
            pipe.hset(job_key(job_id), "status", "retrying")
            try:
                pipe.execute()
                break
            except redis.WatchError:
                continue
    sender = Celery("test-client")
    sender.config_from_object(celeryconfig.config_for(settings))
    sender.send_task(FILE_JOB_TASK, args=[job_id], task_id=job_id, countdown=1)

    final = await_terminal(redis_client, job_id, timeout=90)
    assert final["type"] == "job.succeeded", final
    assert len(terminal_events(redis_client, job_id)) == 1
    # Removed once the job ended: just after its terminal commit, which the event may beat.
    upload = upload_path(settings, str(stored))
    wait_for(lambda: not upload.exists(), 10, "the finished job's upload to be removed")
