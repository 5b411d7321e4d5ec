"""`files` workers sweep stored files themselves; a sweep without Redis deletes nothing."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
import redis

from api.job_store import new_job_id
from jobcast.embedded_redis import free_port
from jobcast.rediskeys import job_key
from jobcast.settings import Settings
from tests.conftest import StartWorker
from tests.support.processes import wait_for
from workers.files.sweeper import LOOKUP_BATCH, live_jobs_in, sweep_once

#: Sweep at once and often; anything untouched for a minute may go.
SWEEPING = {"JOBCAST_FILES_SWEEP_INTERVAL": "0.2", "JOBCAST_FILES_SWEEP_MIN_AGE": "60"}


def aged(path: Path, hours: float = 2.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"a,b\n1,2\n")
    moment = time.time() - hours * 3600
    os.utime(path, (moment, moment))
    return path


def test_files_worker_deletes_an_expired_jobs_artifact_and_keeps_a_live_ones(
    start_worker: StartWorker, redis_client: redis.Redis, settings: Settings
) -> None:
    live_job, gone_job = new_job_id(), new_job_id()
    redis_client.hset(job_key(live_job), mapping={"id": live_job, "status": "succeeded"})
    live = aged(settings.data_dir / "artifacts" / f"{live_job}.parquet")
    gone = aged(settings.data_dir / "artifacts" / f"{gone_job}.csv")

    worker = start_worker(queues="files", env=SWEEPING)

    wait_for(lambda: not gone.exists(), 30, "the expired job's artifact to be swept", worker)
    # Both were decided in the same sweep: the live job's artifact is there to stay.
    assert live.exists()
    wait_for(lambda: "file sweep: 1 deleted" in worker.output(), 10, "the sweep's log line", worker)


def test_sweep_without_redis_is_skipped_with_a_warning_and_deletes_nothing(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    artifact = aged(settings.data_dir / "artifacts" / f"{new_job_id()}.csv", hours=1000)
    upload = aged(settings.data_dir / "uploads" / ("e" * 32), hours=100_000)
    unreachable = redis.Redis(port=free_port(), socket_connect_timeout=1)

    with caplog.at_level(logging.WARNING, logger="jobcast.files.sweep"):
        result = sweep_once(settings, live_jobs_in(unreachable))

    assert result is None
    assert artifact.exists()
    assert upload.exists()
    assert "Redis unavailable" in caplog.text


def test_record_lookup_finds_live_jobs_across_batches(redis_client: redis.Redis) -> None:
    job_ids = [new_job_id() for _ in range(LOOKUP_BATCH + 3)]
    live = {job_ids[0], job_ids[-1]}
    for job_id in live:
        redis_client.hset(job_key(job_id), "id", job_id)

    assert live_jobs_in(redis_client)(job_ids) == live
