"""`JobParams` refuses at submit what no file could make work, and its schema says the same."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest
from pydantic import ValidationError

from jobcast.jobs.params import MAX_MIN_COUNT, SUBMITTED, JobParams

AGGREGATE = {"operation": "aggregate", "metrics": {"b": ["sum"]}}


def problem(params: dict[str, Any]) -> tuple[tuple[str | int, ...], str]:
    with pytest.raises(ValidationError) as refused:
        JobParams.model_validate(params, context=SUBMITTED)
    [error] = refused.value.errors()
    return error["loc"], error["msg"]


def test_a_group_by_column_named_twice_is_refused_naming_it() -> None:
    loc, msg = problem({**AGGREGATE, "group_by": ["a", "b", "a"]})

    assert loc == ("group_by",)
    assert msg.endswith("names 'a' more than once; name each column once")


def test_min_count_is_bounded() -> None:
    assert JobParams.model_validate({**AGGREGATE, "min_count": MAX_MIN_COUNT}).min_count

    loc, msg = problem({**AGGREGATE, "min_count": 10**30})

    assert loc == ("min_count",)
    assert msg == f"Value error, must be at most {MAX_MIN_COUNT:,}"


@pytest.mark.parametrize(
    "encoding",
    ["base64", "hex", "rot13", "uu", "quopri", "zlib", "punycode", "undefined", "idna", "IDNA"],
)
def test_a_codec_that_is_not_a_text_encoding_is_refused(encoding: str) -> None:
    loc, msg = problem({"encoding": encoding})

    assert loc == ("encoding",)
    assert f"{encoding!r} is not a text encoding" in msg


@pytest.mark.parametrize("encoding", ["utf-8", "UTF-16", "utf_16_le", "cp1252", "latin-1"])
def test_text_encodings_are_accepted(encoding: str) -> None:
    assert JobParams(encoding=encoding).encoding == encoding


def test_an_unknown_codec_name_is_refused_at_submit() -> None:
    loc, msg = problem({"encoding": "no-such-codec"})

    assert loc == ("encoding",)
    assert "unknown encoding 'no-such-codec'; name a Python codec such as utf-8" in msg


def test_an_unknown_codec_name_stored_before_the_rule_still_reads() -> None:
    # A job accepted when the worker decided still shows in GET /jobs/{id} (not a 500).
    assert JobParams(encoding="no-such-codec").encoding == "no-such-codec"


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({"header": "no"}, "header", "write true or false (a JSON boolean)"),
        ({"header": 0}, "header", "write true or false (a JSON boolean)"),
        ({**AGGREGATE, "dropna": "false"}, "dropna", "write true or false (a JSON boolean)"),
        ({**AGGREGATE, "min_count": "3"}, "min_count", 'a JSON number, e.g. 2 (not "2")'),
        ({**AGGREGATE, "min_count": 3.0}, "min_count", 'a JSON number, e.g. 2 (not "2")'),
        ({"sheet": 1.0}, "sheet", 'as a string, e.g. "Sales", or its 0-based index, e.g. 0'),
        ({"sheet": True}, "sheet", 'as a string, e.g. "Sales", or its 0-based index, e.g. 0'),
    ],
    ids=json.dumps,
)
def test_params_take_json_types_as_written_as_orders_do(
    params: dict[str, Any], field: str, says: str
) -> None:
    loc, msg = problem(params)

    assert loc == (field,)
    assert says in msg


def test_a_sheet_index_counts_from_zero() -> None:
    assert JobParams.model_validate({"sheet": 0}, context=SUBMITTED).sheet == 0
    assert JobParams.model_validate({"sheet": "-1"}, context=SUBMITTED).sheet == "-1"  # a name

    loc, msg = problem({"sheet": -1})

    assert loc == ("sheet",)
    assert "a sheet index counts from 0 (the first sheet); write 0 or more" in msg


@pytest.mark.parametrize(
    "params",
    [
        {"sheet": -1},
        {"sheet": 0},
        {"header": "no"},
        {**AGGREGATE, "group_by": ["a", "a"]},
        {**AGGREGATE, "group_by": ["a", "b"]},
        {**AGGREGATE, "min_count": MAX_MIN_COUNT},
        {**AGGREGATE, "min_count": MAX_MIN_COUNT + 1},
    ],
    ids=json.dumps,
)
def test_the_schema_states_the_new_bounds_as_the_model_does(params: dict[str, Any]) -> None:
    by_schema = jsonschema_rs.Draft202012Validator(JobParams.model_json_schema()).is_valid(params)
    try:
        JobParams.model_validate(params, context=SUBMITTED)
        by_model = True
    except ValidationError:
        by_model = False

    assert by_schema == by_model


@pytest.mark.parametrize(
    "params",
    [
        {**AGGREGATE, "group_by": ["a", "a"]},
        {**AGGREGATE, "min_count": 10**30},
        {"encoding": "base64"},
        {"sheet": -1},
    ],
    ids=json.dumps,
)
def test_a_stored_jobs_params_are_read_as_they_were_accepted(params: dict[str, Any]) -> None:
    # A job submitted before these rules still shows in GET /jobs/{id} and in clients.
    assert JobParams.model_validate(params).operation == params.get("operation", "profile")
