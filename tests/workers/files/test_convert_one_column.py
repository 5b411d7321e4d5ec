"""A one-column table converted to CSV keeps every row: a missing value is written `""`, as
pandas' `to_csv` writes it, not an empty line, which pandas and our reader skip."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobcast.jobs.params import JobParams
from tests.conftest import SharedStack, module_stack
from tests.workers.files.support import SMALL_BATCHES, JobsClient, await_terminal
from workers.files.runner import Hooks, run_job

#: An api and a files worker: each file converted through the real job path.
convert_stack = module_stack(worker_queues="files")

#: Per column type, values with missing ones first, inside and last.
VALUES: dict[str, list[Any]] = {
    "int": [None, 1, None, None, 3, None],
    "float": [None, 1.5, None, 2.0, None],
    "string": [None, "a", None, "b,c", None],
    "bool": [None, True, None, False, None],
    "timestamp": [None, datetime(2024, 1, 2, 3, 4, 5), None, datetime(2024, 5, 6), None],
}


def parquet_source(tmp_path: Path, values: list[Any]) -> tuple[Path, pd.DataFrame]:
    path = tmp_path / "one.parquet"
    pq.write_table(pa.table({"v": pa.array(values)}), path)
    return path, pd.read_parquet(path)


def jsonl_source(tmp_path: Path, values: list[Any]) -> tuple[Path, pd.DataFrame]:
    path = tmp_path / "one.jsonl"
    lines = [json.dumps({"v": v}, default=lambda t: t.isoformat(" ")) for v in values]
    path.write_text("\n".join(lines) + "\n")
    return path, pd.read_json(path, lines=True)


SOURCES = {"parquet": parquet_source, "jsonl": jsonl_source}


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("kind", VALUES)
def test_a_one_column_csv_reads_back_with_every_row_and_its_missing_values(
    convert_stack: SharedStack, tmp_path: Path, kind: str, source: str
) -> None:
    path, frame = SOURCES[source](tmp_path, VALUES[kind])
    jobs = JobsClient(convert_stack.url, convert_stack.new_key("converter")[0])

    job_id = jobs.submit_ok(path, json.dumps({"operation": "convert", "to": "csv"}))
    assert await_terminal(convert_stack.redis, job_id)["type"] == "job.succeeded"
    download = jobs.http.get(f"/jobs/{job_id}/artifact")
    jobs.http.close()

    assert download.status_code == 200
    back = pd.read_csv(io.BytesIO(download.content))
    assert len(back) == len(frame) == len(VALUES[kind])
    assert back["v"].isna().tolist() == frame["v"].isna().tolist()
    # The values, as pandas reads back the CSV it writes of them (dates in its own text; not of
    # `frame`: pandas' read_json makes true/false with a null 1.0/0.0, where ours keeps them).
    written = pd.DataFrame({"v": VALUES[kind]}).to_csv(index=False)
    expected = pd.read_csv(io.StringIO(written))
    if kind == "timestamp":
        back, expected = back.apply(pd.to_datetime), expected.apply(pd.to_datetime)
    pd.testing.assert_frame_equal(back, expected)


def test_a_one_column_csv_is_written_as_pandas_writes_it(tmp_path: Path) -> None:
    # Quoted only where a value needs it, a missing value `""`, row by row as pandas quotes.
    path = tmp_path / "one.parquet"
    texts = ["plain", None, 'say "hi"', "a,b", "two\nlines", None, "x"]
    pq.write_table(pa.table({"v": texts}), path)
    out = tmp_path / "out.csv"

    run_job(path, JobParams(operation="convert", to="csv"), SMALL_BATCHES, Hooks(), out)

    assert out.read_text() == pd.read_parquet(path).to_csv(index=False)
