"""A file job through a real api and a real worker.

Queued -> running -> succeeded, and the result.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import redis

from tests.conftest import StartWorker
from tests.workers.files.support import JobsClient, await_terminal, terminal_events, write_csv


def test_uploaded_csv_is_profiled_and_result_matches_pandas(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    start_worker(queues="files")
    path = write_csv(tmp_path / "mixed.csv", 20_000)

    job_id = jobs.submit_ok(path)
    await_terminal(redis_client, job_id)

    assert jobs.job(job_id)["status"] == "succeeded"
    result = jobs.result(job_id)
    frame = pd.read_csv(path)
    assert result["rows"] == len(frame)
    qty = next(c for c in result["profile"] if c["name"] == "qty")
    assert qty["mean"] == pytest.approx(frame["qty"].mean(), rel=1e-12)
    assert len(terminal_events(redis_client, job_id)) == 1
