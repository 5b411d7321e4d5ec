"""Aggregate agrees with pandas groupby; convert produces a downloadable artifact."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import redis

from jobcast.jobs.params import JobParams
from tests.conftest import StartWorker
from tests.workers.files.support import JobsClient, await_terminal, mixed_frame
from workers.files.runner import Hooks, JobLimits, run_job

LIMITS = JobLimits(memory_budget=256 << 20, batch_bytes=64 << 10, max_decompressed=1 << 30,
                   max_columns=100, max_groups=3, distinct_limit=1000)  # fmt: skip


def test_aggregate_matches_pandas_groupby_across_batches(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    frame = mixed_frame(20_000)
    frame.to_csv(path, index=False)
    params = JobParams(operation="aggregate", group_by=["fruit"],
                       metrics={"price": ["count", "sum", "mean", "min", "max"]})  # fmt: skip
    limits = JobLimits(**{**LIMITS.__dict__, "max_groups": 10})

    result = run_job(path, params, limits, Hooks(), tmp_path / "out")

    expected = (
        pd.read_csv(path).groupby("fruit")["price"].agg(["count", "sum", "mean", "min", "max"])
    )
    assert result["groups"] == len(expected)
    for row in result["table"]:
        want = expected.loc[row["fruit"]]
        for metric in ("count", "sum", "mean", "min", "max"):
            assert row[f"price_{metric}"] == pytest.approx(want[metric], rel=1e-9), metric


def test_aggregate_with_more_groups_than_allowed_fails(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    mixed_frame(1000).to_csv(path, index=False)
    params = JobParams(operation="aggregate", group_by=["qty"], metrics={"price": ["sum"]})

    with pytest.raises(Exception, match="groups") as failure:
        run_job(path, params, LIMITS, Hooks(), tmp_path / "out")
    assert getattr(failure.value, "code", None) == "too_many_groups"


def test_convert_job_artifact_downloads_as_parquet_with_every_row(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    start_worker(queues="files")
    path = tmp_path / "t.csv"
    mixed_frame(5000).to_csv(path, index=False)

    job_id = jobs.submit_ok(path, params=json.dumps({"operation": "convert", "to": "parquet"}))
    assert await_terminal(redis_client, job_id)["type"] == "job.succeeded"
    download = jobs.http.get(f"/jobs/{job_id}/artifact")

    assert download.status_code == 200
    table = pq.read_table(io.BytesIO(download.content))
    assert table.num_rows == 5000
    assert table.column_names == list(pd.read_csv(path).columns)
    assert jobs.result(job_id)["artifact_bytes"] == len(download.content)
