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


def test_a_windows_1252_price_list_reads_as_pandas_reads_it_in_cp1252(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    # Excel's "CSV" on Western Windows; detected as cp775 ('Cafķ', '3,50 Ć') before.
    path = tmp_path / "prix.csv"
    path.write_bytes("Produit;Prix\r\nCafé;3,50 €\r\nThé;2,00 €\r\n".encode("cp1252"))
    start_worker(queues="files")

    job_id = jobs.submit_ok(path)
    await_terminal(redis_client, job_id)

    result = jobs.result(job_id)
    frame = pd.read_csv(path, encoding="cp1252", sep=";")
    assert result["encoding"] == "cp1252"
    assert [c["name"] for c in result["profile"]] == list(frame.columns)
    tops = {c["name"]: sorted(t["value"] for t in c["top"]) for c in result["profile"]}
    assert tops == {name: sorted(frame[name]) for name in frame.columns}
