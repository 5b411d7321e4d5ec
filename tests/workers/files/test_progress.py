"""Progress counts the bytes processed, not those the reader fetched ahead: it starts near 0,
rises with every batch, and reaches 100 only with the terminal event. A job's progress events
come at most once per interval, none for a job over within one."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import redis

from jobcast.jobs.params import JobParams
from tests.conftest import StartWorker
from tests.workers.files.pandas_compare import LIMITS
from tests.workers.files.support import JobsClient, await_terminal, events, write_csv
from workers.files.runner import Hooks, Progress, run_job
from workers.files.state import ProgressThrottle


def test_progress_follows_the_batches_processed(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", 40_000)  # about 2.5 MB: some 40 blocks of 64 KiB
    seen: list[Progress] = []

    result = run_job(path, JobParams(), LIMITS, Hooks(progress=seen.append), tmp_path / "out")

    total = path.stat().st_size
    assert seen[0].percent == 0.0
    assert seen[0].rows == 0
    first_batch = seen[1]
    # One 64 KiB block processed, whatever the reader fetched ahead of it.
    assert first_batch.bytes_done <= 2 * (64 << 10) < total / 10, first_batch
    scan = [p.percent for p in seen if p.phase == "scan"]
    assert scan == sorted(scan)
    assert max(scan) <= 99.0
    assert [p.bytes_done for p in seen] == sorted(p.bytes_done for p in seen)
    assert seen[-1].final
    assert seen[-1].rows == result["rows"] == 40_000
    assert seen[-1].percent == 99.9


def test_job_events_show_percent_strictly_rising_and_rows_final(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    # Small batches and no throttle, so a 2.5 MB file makes many progress events.
    start_worker(
        queues="files",
        env={"JOBCAST_JOB_BATCH_BYTES": str(64 << 10), "JOBCAST_JOB_PROGRESS_INTERVAL": "0.001"},
    )
    path = write_csv(tmp_path / "t.csv", 40_000)

    job_id = jobs.submit_ok(path)
    terminal = await_terminal(redis_client, job_id)

    progress = [e["data"] for e in events(redis_client, job_id) if e["type"] == "job.progress"]
    percents = [p["percent"] for p in progress]
    assert len(percents) >= 5, percents
    assert all(a < b for a, b in itertools.pairwise(percents)), percents
    assert percents[0] < 5
    assert max(percents) < 100
    assert progress[-1]["rows"] == 40_000
    assert terminal["type"] == "job.succeeded"
    assert terminal["data"]["rows"] == 40_000
    result = jobs.result(job_id)
    assert 0 < result["peak_rss_bytes"] < 1 << 30
    assert result["encoding"] == "utf-8"


def test_a_job_within_one_interval_commits_no_progress_not_even_its_final_one() -> None:
    throttle = ProgressThrottle(0.5)
    assert not throttle.ready(0.0)  # the start said as much
    assert not throttle.ready(50.0)
    assert not throttle.ready(99.9, final=True)  # its outcome follows at once


def test_a_longer_job_commits_once_per_interval_and_its_final_progress_always() -> None:
    throttle = ProgressThrottle(0.5, started=time.monotonic() - 1.0)
    assert throttle.ready(10.0)
    assert not throttle.ready(20.0)  # within an interval of the last one
    assert not throttle.ready(10.0, final=True)  # percent must rise
    assert throttle.ready(99.9, final=True)
