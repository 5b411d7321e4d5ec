"""A file several times the memory budget is profiled with the worker's peak RSS under budget."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from tests.conftest import StartWorker
from tests.workers.files.support import JobsClient, await_terminal, write_large_csv

BUDGET = 256 * 1024**2


@pytest.mark.slow
def test_file_four_times_the_budget_is_profiled_under_the_budget(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    start_worker(queues="files", env={"JOBCAST_JOB_MEMORY_BUDGET": str(BUDGET)})
    path = write_large_csv(tmp_path / "large.csv", 4 * BUDGET)
    assert path.stat().st_size >= 4 * BUDGET

    job_id = jobs.submit_ok(path)
    path.unlink()  # the api stored its own copy; keep the disk footprint down

    assert await_terminal(redis_client, job_id, timeout=100)["type"] == "job.succeeded"
    result = jobs.result(job_id)
    assert result["bytes_read"] >= 4 * BUDGET
    # ru_maxrss of the pool process that ran the job: its peak over its whole life.
    assert result["peak_rss_bytes"] < BUDGET, result["peak_rss_bytes"] / 2**20
    amount = next(c for c in result["profile"] if c["name"] == "amount")
    assert amount["quantiles_exact"] is False  # the budget forced the documented estimate
