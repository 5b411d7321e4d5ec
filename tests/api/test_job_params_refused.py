"""Params no file could make work are refused at submit (422 invalid_params naming the field),
instead of a job that fails later."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SharedStack, module_stack
from tests.workers.files.support import JobsClient

#: One api for the module (no worker: nothing here may be queued).
stack = module_stack()

AGGREGATE = {"operation": "aggregate", "metrics": {"b": ["sum"]}}
NOT_TEXT_ENCODINGS = ("base64", "hex", "rot13", "uu", "quopri", "punycode", "undefined", "idna")


@pytest.fixture
def jobs(stack: SharedStack) -> Iterator[JobsClient]:
    client = JobsClient(stack.url, stack.new_key("tester")[0])
    yield client
    client.http.close()


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    return path


@pytest.mark.parametrize(
    ("params", "field", "problem"),
    [
        (
            {**AGGREGATE, "group_by": ["a", "a"]},
            "params.group_by",
            "names 'a' more than once; name each column once",
        ),
        (
            {**AGGREGATE, "min_count": 10**30},
            "params.min_count",
            "must be at most 1,000,000,000,000",
        ),
        *(
            ({"encoding": name}, "params.encoding", f"'{name}' is not a text encoding")
            for name in NOT_TEXT_ENCODINGS
        ),
        (
            {"encoding": "no-such-codec"},
            "params.encoding",
            "unknown encoding 'no-such-codec'; name a Python codec such as utf-8",
        ),
    ],
    ids=["repeated-group-by", "huge-min-count", *NOT_TEXT_ENCODINGS, "unknown-encoding"],
)
def test_params_no_file_could_satisfy_are_422_naming_the_field(
    jobs: JobsClient, table: Path, params: dict[str, Any], field: str, problem: str
) -> None:
    response = jobs.submit(table, params=json.dumps(params))

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_params"
    [detail] = error["details"]
    assert detail["field"] == field
    assert detail["problem"].startswith(problem)
    assert error["message"].startswith(f"Invalid request: {field}: {problem}")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ('{"min_count": ' + "9" * 5000 + "}", "holds a number of more than 4,300 digits"),
        ('{"min_count": 1', "not valid JSON (Expecting ',' delimiter: line 1 column 16"),
        ("[" * 20_000 + "]" * 20_000, "nested too deeply"),
    ],
    ids=["5000-digit-number", "cut-short", "deep"],
)
def test_params_that_are_no_json_python_reads_say_what_to_fix_in_our_words(
    jobs: JobsClient, table: Path, raw: str, problem: str
) -> None:
    # The digits limit said "use sys.set_int_max_str_digits() to increase the limit", a
    # Python call the client cannot make.
    response = jobs.submit(table, params=raw)

    assert response.status_code == 422, response.text
    [detail] = response.json()["error"]["details"]
    assert (detail["field"], detail["type"]) == ("params", "json_invalid")
    assert detail["problem"].startswith(problem), detail["problem"]
    assert "sys." not in response.text
