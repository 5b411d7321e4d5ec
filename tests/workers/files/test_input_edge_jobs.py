"""Inputs a tester found failing as internal_error: each is profiled, or fails with a code and a
message saying what to fix (no library text)."""

from __future__ import annotations

import io
import json
import signal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from jobcast.jobs.params import JobParams
from jobcast.rediskeys import job_key
from tests.conftest import SharedStack, module_stack
from tests.workers.files.support import SMALL_BATCHES, JobsClient, await_terminal
from workers.files.errors import FileJobError, over_budget
from workers.files.runner import Hooks, run_job

#: What pyarrow or a codec says, which an owner must not be shown.
LIBRARY_WORDS = ("kernel", "hash_", "uint32", "date32", "Arrow", "codec can't", "BOM")


def run(tmp_path: Path, content: bytes, params: JobParams | None = None) -> Any:
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    return run_job(path, params or JobParams(), SMALL_BATCHES, Hooks(), tmp_path / "out")


def failure(tmp_path: Path, content: bytes, params: JobParams | None = None) -> FileJobError:
    with pytest.raises(FileJobError) as raised:
        run(tmp_path, content, params)
    assert not any(word in raised.value.message for word in LIBRARY_WORDS), raised.value.message
    return raised.value


def column(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in result["profile"] if c["name"] == name)


@pytest.mark.parametrize(
    ("values", "low", "high"),
    [
        (["2024-01-01", "9999-12-31"], "2024-01-01T00:00:00", "9999-12-31T00:00:00"),
        (["1600-01-01", "2024-01-01"], "1600-01-01T00:00:00", "2024-01-01T00:00:00"),
        (
            ["2024-01-01 00:00:00", "9999-12-31 00:00:00"],
            "2024-01-01T00:00:00",
            "9999-12-31T00:00:00",
        ),
        (["0000-01-01", "1600-01-01"], "0000-01-01T00:00:00", "1600-01-01T00:00:00"),
    ],
    ids=["far-end-date", "early-date", "far-end-timestamp", "year-zero"],
)
def test_dates_outside_pandas_nanosecond_range_are_profiled_as_datetimes(
    tmp_path: Path, values: list[str], low: str, high: str
) -> None:
    body = "id,valid_to\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values))

    valid_to = column(run(tmp_path, body.encode()), "valid_to")

    assert valid_to["type"] == "datetime"
    assert (valid_to["count"], valid_to["min"], valid_to["max"]) == (2, low, high)
    assert {t["value"] for t in valid_to["top"]} == {low, high}
    assert valid_to["histogram"]["edges"][0] == low
    assert valid_to["histogram"]["edges"][-1] == high
    assert low < valid_to["50%"] < high


def test_dates_python_cannot_hold_are_group_keys_and_min_max_of_an_aggregate(
    tmp_path: Path,
) -> None:
    # Year 0 (Arrow reads it; Python's date starts at year 1) ended the job internal_error.
    body = b"d,t,v\n0000-01-01,0000-01-01 12:00:00,1\n2024-05-01,2024-05-01 08:30:00,2\n"
    params = JobParams.model_validate(
        {"operation": "aggregate", "group_by": ["d"], "metrics": {"t": ["min", "max"]}}
    )

    result = run(tmp_path, body, params)

    assert result["table"] == [
        {"d": "0000-01-01", "t_min": "0000-01-01 12:00:00", "t_max": "0000-01-01 12:00:00"},
        {"d": "2024-05-01", "t_min": "2024-05-01 08:30:00", "t_max": "2024-05-01 08:30:00"},
    ]


def test_a_long_value_in_the_first_data_row_is_no_long_header(tmp_path: Path) -> None:
    # Past the 64 KiB sample it was "The first line is longer than 64 KiB" (the header: a,b).
    body = b"a,b\n" + b"x" * 100_000 + b",1\ny,2\n"

    result = run(tmp_path, body)

    assert result["rows"] == 2
    assert [c["name"] for c in result["profile"]] == ["a", "b"]


@pytest.mark.parametrize(
    "head",
    [b"a,b\n\n", b"\n\na,b\n", b"a,b\r\n\r\n"],
    ids=["blank-line-under", "blank-lines-above", "crlf-blank-line-under"],
)
def test_blank_lines_by_the_header_are_no_long_header(tmp_path: Path, head: bytes) -> None:
    # Past the 64 KiB sample it was "The first line is longer than 64 KiB": a blank line was
    # taken for the sample ending inside the header.
    body = head + b"1,2\n" * 20_000
    assert pd.read_csv(io.BytesIO(body)).shape == (20_000, 2)  # pandas skips blank lines

    result = run(tmp_path, body)

    assert result["rows"] == 20_000
    assert [c["name"] for c in result["profile"]] == ["a", "b"]


#: A README: a 9-byte title, a blank line, then prose whose commas make ragged "rows".
MARKDOWN = b"# Jobcast\n\n" + b"Jobcast runs jobs, in Python, on workers.\n\n" * 2_000


def test_a_markdown_file_past_the_sample_is_not_told_its_first_line_is_too_long(
    tmp_path: Path,
) -> None:
    assert len(MARKDOWN) > 64 * 1024
    error = failure(tmp_path, MARKDOWN)

    assert error.code == "ragged_rows"
    assert error.message.startswith("Line 3 has 3 fields; the header has 1")


def test_a_header_line_past_the_sample_is_refused_saying_so(tmp_path: Path) -> None:
    error = failure(tmp_path, b"h" * 70_000 + b",g\n1,2\n")
    assert error.code == "unreadable_file"
    assert "first line is longer than 64 KiB" in error.message


@pytest.mark.parametrize(
    "content",
    [b"h" * 70_000 + b",g\n1,2\n", b'"' + b"h" * 70_000 + b'",g\n1,2\n'],
    ids=["plain", "quoted-closed-past-the-sample"],
)
def test_a_first_row_past_the_sample_without_a_header_names_no_column_names(
    tmp_path: Path, content: bytes
) -> None:
    # It said "its column names are too long to read": with `header: false` there are none.
    error = failure(tmp_path, content, JobParams(header=False))

    assert error.code == "unreadable_file"
    assert error.message.startswith("The first line is longer than 64 KiB: too long to count ")
    assert "column names are" not in error.message
    with_names = run(tmp_path, b"a,b\n" + content)  # what the message advises
    assert with_names["rows"] == 2


def test_datetimes_in_pandas_range_keep_their_sub_second_part(tmp_path: Path) -> None:
    body = b"t\n2024-01-01 00:00:00.5\n2024-01-02 00:00:00.25\n"

    t = column(run(tmp_path, body), "t")

    assert (t["min"], t["max"]) == ("2024-01-01T00:00:00.500000", "2024-01-02T00:00:00.250000")
    assert t["mean"] == "2024-01-01T12:00:00.375000"


@pytest.mark.parametrize(
    ("content", "encoding", "named"),
    [
        (b"a,b\n1,2\n3,4\n", "utf-16", "utf-16-le"),  # UTF-8 (no byte-order mark) read as UTF-16
        (b"a,b\n1,2\n3,4\n", "utf-32", "utf-32-le"),
        ("name,v\nJosé,1\n".encode("latin-1"), "utf-8", "utf-8"),
    ],
    ids=["utf-16-without-bom", "utf-32-without-bom", "latin-1-named-utf-8"],
)
def test_a_file_not_in_the_named_encoding_fails_as_invalid_encoding(
    tmp_path: Path, content: bytes, encoding: str, named: str
) -> None:
    error = failure(tmp_path, content, JobParams(encoding=encoding))

    assert error.code == "invalid_encoding"
    assert f"not {encoding} text" in error.message
    assert named in error.message


def test_a_file_that_stops_decoding_past_the_sample_fails_as_invalid_encoding(
    tmp_path: Path,
) -> None:
    # The sample (64 KiB) decodes as UTF-16-LE; an odd byte count at the end does not.
    content = "a,b\n".encode("utf-16") + "1,2\n".encode("utf-16-le") * 20_000 + b"x"

    error = failure(tmp_path, content, JobParams(encoding="utf-16"))

    assert error.code == "invalid_encoding"
    assert "further down" in error.message


@pytest.mark.parametrize(
    ("content", "metrics", "message"),
    [
        (
            b"k,v\na,x\nb,y\n",
            {"v": ["sum"]},
            "Cannot compute sum of column 'v', which holds text: sum applies to numbers or "
            "true/false values.",
        ),
        (
            b"k,v\na,2024-01-01\nb,2024-01-02\n",
            {"v": ["mean"]},
            "Cannot compute mean of column 'v', which holds dates or times: mean applies to "
            "numbers or true/false values.",
        ),
        (
            b'{"k": "a", "v": [1, 2]}\n{"k": "b", "v": [3]}\n',
            {"v": ["count", "max"]},
            "Cannot compute max of column 'v', which holds lists or objects: max applies to "
            "numbers, text, dates or true/false values.",
        ),
    ],
    ids=["sum-of-text", "mean-of-dates", "max-of-lists"],
)
def test_a_metric_that_does_not_apply_names_the_column_its_type_and_the_metric(
    tmp_path: Path, content: bytes, metrics: dict[str, Any], message: str
) -> None:
    params = JobParams(operation="aggregate", group_by=["k"], metrics=metrics)

    error = failure(tmp_path, content, params)

    assert (error.code, error.message) == ("unsupported_metric", message)


def test_grouping_by_a_column_of_objects_says_so_in_words(tmp_path: Path) -> None:
    content = b'{"k": {"x": 1}, "v": 1}\n{"k": {"x": 2}, "v": 2}\n'
    params = JobParams(operation="aggregate", group_by=["k"], metrics={"v": ["sum"]})

    error = failure(tmp_path, content, params)

    assert error.code == "unsupported_metric"
    assert error.message.startswith("Cannot group by column 'k', which holds lists or objects")


#: An api and a files worker: the reported inputs, end to end.
edge_stack = module_stack(worker_queues="files")


@pytest.mark.parametrize(
    ("content", "params", "code"),
    [
        (b"id,valid_to\n1,2024-01-01\n2,9999-12-31\n", {}, None),
        (b"a,b\n1,2\n3,4\n", {"encoding": "utf-16"}, "invalid_encoding"),
        (
            b"k,v\na,x\nb,y\n",
            {"operation": "aggregate", "group_by": ["k"], "metrics": {"v": ["sum"]}},
            "unsupported_metric",
        ),
        (
            b'{"o": {"a": 1}, "l": [1, 2]}\n{"o": null, "l": []}\n',
            {"operation": "convert", "to": "csv"},
            None,
        ),
        (MARKDOWN, {}, "ragged_rows"),
    ],
    ids=["far-end-date", "utf-16-without-bom", "sum-of-text", "nested-json-to-csv", "markdown"],
)
def test_reported_inputs_end_as_results_or_errors_to_act_on_never_internal_error(
    edge_stack: SharedStack,
    tmp_path: Path,
    content: bytes,
    params: dict[str, Any],
    code: str | None,
) -> None:
    jobs = JobsClient(edge_stack.url, edge_stack.new_key("tester")[0])
    path = tmp_path / "in.csv"
    path.write_bytes(content)

    job_id = jobs.submit_ok(path, json.dumps(params))

    final = await_terminal(edge_stack.redis, job_id)
    job = jobs.job(job_id)
    jobs.http.close()
    if code is None:
        assert final["type"] == "job.succeeded", job
    else:
        assert final["type"] == "job.failed"
        assert job["error"]["code"] == code


PAST_64_BITS = "Column 'a' holds an integer past 64 bits on line 1; quote such numbers"


@pytest.mark.parametrize(
    ("line", "said"),
    [
        (b'{"a": ' + b"9" * 30 + b"}", PAST_64_BITS),
        (b'{"a": ' + b"9" * 400 + b"}", PAST_64_BITS),  # inf to pyarrow: it succeeded, all null
        (b'{"a": -' + b"9" * 400 + b"}", PAST_64_BITS),
        (b'{"a": ' + b"9" * 4_400 + b"}", PAST_64_BITS),  # past Python's 4,300 digits
        (b'{"a": ' + b"9" * 100_000 + b"}", PAST_64_BITS),
        (b'{"a": 1e400}', "Column 'a' holds a number past a 64-bit float's range on line 1"),
        (b"[" * 100_000 + b"]" * 100_000, "more than 64 deep"),  # was "column names too long"
        (b'[{"a": 1}, {"a": 2}]', "This file is one JSON array, not JSON Lines"),
        (b'[\n  {\n    "a": 1\n  }\n]', "This file is one JSON array, not JSON Lines"),
    ],
    ids=[
        "30-digits",
        "400-digits",
        "minus-400",
        "4400-digits",
        "100k-digits",
        "1e400",
        "deep-array",
        "json-array",
        "pretty-json-array",
    ],
)
def test_json_lines_past_what_a_number_or_a_line_may_be_fail_invalid_json_saying_so(
    edge_stack: SharedStack, tmp_path: Path, line: bytes, said: str
) -> None:
    jobs = JobsClient(edge_stack.url, edge_stack.new_key("tester")[0])
    path = tmp_path / "in.jsonl"
    path.write_bytes(line + b"\n")

    job_id = jobs.submit_ok(path, "{}")

    assert await_terminal(edge_stack.redis, job_id)["type"] == "job.failed"
    error = jobs.job(job_id)["error"]
    jobs.http.close()
    assert error["code"] == "invalid_json", error
    assert said in error["message"], error


def test_infinities_are_profiled_and_aggregated_and_read_back_as_null(
    edge_stack: SharedStack, tmp_path: Path
) -> None:
    # A tester's `inf` failed the profile as internal_error (numpy bins no infinite range).
    jobs = JobsClient(edge_stack.url, edge_stack.new_key("tester")[0])
    path = tmp_path / "inf.csv"
    path.write_bytes(b"v,g\n1,a\n2,a\ninf,b\n-inf,b\n")
    aggregate = {"operation": "aggregate", "group_by": ["g"], "metrics": {"v": ["sum", "max"]}}
    profiled = jobs.submit_ok(path, "{}")
    aggregated = jobs.submit_ok(path, json.dumps(aggregate))

    results = []
    for job_id in (profiled, aggregated):
        assert await_terminal(edge_stack.redis, job_id)["type"] == "job.succeeded"
        response = jobs.http.get(f"/jobs/{job_id}/result")
        assert response.status_code == 200, response.text
        results.append(response.json())
    jobs.http.close()
    v = column(results[0], "v")
    assert (v["count"], v["min"], v["max"], v["mean"]) == (4, None, None, None)  # JSON has no inf
    assert v["histogram"]["edges"][0] == 1.0  # the finite values' bins
    assert v["top"] == [{"value": value, "count": 1} for value in (1.0, 2.0, None, None)]
    assert results[1]["table"][1] == {"g": "b", "v_sum": None, "v_max": None}  # NaN and inf


def test_a_job_queued_with_params_a_later_version_refuses_fails_invalid_params(
    edge_stack: SharedStack, tmp_path: Path
) -> None:
    # Queued before a deploy tightened a rule: the worker says so, not internal_error.
    jobs = JobsClient(edge_stack.url, edge_stack.new_key("early")[0])
    path = tmp_path / "in.csv"
    path.write_bytes(b"a,b\n1,2\n")
    worker = next(p for p in edge_stack.procs if p.name.startswith("w-"))
    worker.kill_group(signal.SIGSTOP)
    try:
        job_id = jobs.submit_ok(path)
        queued_as = {"operation": "aggregate", "group_by": ["a", "a"], "metrics": {"b": ["sum"]}}
        edge_stack.redis.hset(job_key(job_id), "params", json.dumps(queued_as))
    finally:
        worker.kill_group(signal.SIGCONT)

    assert await_terminal(edge_stack.redis, job_id)["type"] == "job.failed"
    error = jobs.job(job_id)["error"]
    jobs.http.close()
    assert error["code"] == "invalid_params"
    assert error["message"].startswith("Invalid params: params.group_by: names 'a' more than once")


def test_an_aggregate_past_its_memory_budget_is_told_about_its_groups() -> None:
    # A tester's 1.3 million unique ids were told to look for values that decode too large.
    assert "this aggregate's groups" in over_budget(512, "aggregate")
    assert "group by fewer or coarser columns" in over_budget(512, "aggregate")
    assert "split the file" in over_budget(512, "profile")
