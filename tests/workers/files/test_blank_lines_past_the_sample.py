"""Lines of only spaces and tabs that first appear past the 64 KiB format sample, end to end
through an api and a files worker reading 64 KiB blocks: skipped as pandas skips them on every
reading path (streamed, gzip, parsed by ranges on two threads)."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.conftest import SharedStack, module_stack
from tests.workers.files.pandas_compare import assert_matches_pandas
from tests.workers.files.support import JobsClient, await_terminal
from workers.files.file_format import SNIFF_BYTES

#: Blocks of 64 KiB: a file of 256 KiB or more is parsed by ranges (`parallel_csv.MIN_BLOCKS`).
BLOCK = 64 * 1024
blank_stack = module_stack(
    worker_queues="files", worker_env={"JOBCAST_JOB_BATCH_BYTES": str(BLOCK)}
)


def outcome(stack: SharedStack, path: Path, body: bytes) -> Any:
    """The job's result once it succeeded, or its error once it failed."""
    path.write_bytes(body)
    jobs = JobsClient(stack.url, stack.new_key("editor")[0])
    try:
        job_id = jobs.submit_ok(path, json.dumps({}))
        if await_terminal(stack.redis, job_id)["type"] == "job.failed":
            return jobs.job(job_id)["error"]
        return jobs.result(job_id)
    finally:
        jobs.http.close()


def table(columns: int, rows: int, text: bool = False) -> list[str]:
    """A header and `rows` rows of integers (or of 50 words, few enough to count exactly) in
    `columns` columns."""
    header = ",".join(f"c{j}" for j in range(columns))

    def cell(n: int) -> str:
        return f"w{n % 50}" if text else str(n)

    return [header] + [",".join(cell(i * 7 + j) for j in range(columns)) for i in range(rows)]


def with_blank_line(lines: list[str], past: int, blank: str = " \t  ") -> bytes:
    """`lines` with a line of spaces and tabs after the first line ending `past` bytes in."""
    at, size = 0, 0
    while size <= past:
        size += len(lines[at]) + 1
        at += 1
    return ("\n".join([*lines[:at], blank, *lines[at:]]) + "\n").encode()


CASES = {
    # ~150 KiB, read block by block; the line lands in the third block.
    "one-column": (table(1, 25_000), 2 * BLOCK, False),
    "one-column-text": (table(1, 50_000, text=True), 2 * BLOCK, False),
    "one-column-gzip": (table(1, 25_000), 2 * BLOCK, True),
    # ~600 KiB: parsed by ranges; the line lands in the sixth.
    "one-column-ranges": (table(1, 100_000), 5 * BLOCK, False),
    "three-columns-ranges": (table(3, 40_000), 5 * BLOCK, False),
    "three-columns-gzip": (table(3, 40_000), 5 * BLOCK, True),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_line_of_spaces_past_the_sample_is_skipped_as_pandas_skips_it(
    blank_stack: SharedStack, tmp_path: Path, case: str
) -> None:
    lines, past, gzipped = CASES[case]
    text = with_blank_line(lines, past)
    assert text.index(b"\n \t  \n") > SNIFF_BYTES

    result = outcome(blank_stack, tmp_path / "edited.csv", gzip.compress(text) if gzipped else text)

    expected = pd.read_csv(io.BytesIO(text))
    assert_matches_pandas(result, expected)
    kind = "string" if case.endswith("-text") else "integer"
    assert [c["type"] for c in result["profile"]] == [kind] * len(expected.columns)


def test_a_quoted_value_of_spaces_past_the_sample_stays_a_value(
    blank_stack: SharedStack, tmp_path: Path
) -> None:
    lines = table(1, 50_000, text=True)
    text = with_blank_line(lines, 2 * BLOCK, blank='"  "')

    result = outcome(blank_stack, tmp_path / "quoted.csv", text)

    expected = pd.read_csv(io.BytesIO(text))
    assert_matches_pandas(result, expected)
    assert result["rows"] == 50_001
