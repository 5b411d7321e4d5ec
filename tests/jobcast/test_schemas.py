"""The public API models: importable by a client that has only pydantic, and as strict in their
JSON schema as in Python."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import jsonschema_rs
import pytest
from pydantic import BaseModel, ValidationError

import jobcast.schemas
from jobcast.jobs.params import JobParams

#: Top-level packages `jobcast.schemas` may load: pydantic and what pydantic itself needs.
ALLOWED = {
    "jobcast",
    "pydantic",
    "pydantic_core",
    "typing_extensions",
    "annotated_types",
    "typing_inspection",
}

PROBE = """
import json, sys
before = set(sys.modules)
import jobcast.schemas
print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))
"""


def test_schemas_import_nothing_but_pydantic_and_the_standard_library() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))

    third_party = {
        m
        for m in loaded - ALLOWED
        if m not in sys.stdlib_module_names and not m.startswith("_sysconfigdata")
    }
    assert not third_party, f"jobcast.schemas pulled in {sorted(third_party)}"
    assert "jobcast" in loaded


PARAMS_CASES = [
    {},
    {"operation": "profile"},
    {"operation": "profile", "group_by": [], "metrics": {}, "to": None},
    {"operation": "profile", "to": "csv"},
    {"operation": "profile", "group_by": ["a"]},
    {"operation": "aggregate"},
    {"operation": "aggregate", "group_by": ["city"]},
    {"operation": "aggregate", "metrics": {"amount": ["sum", "mean"]}},
    {"operation": "aggregate", "group_by": [], "metrics": {}},
    {"operation": "aggregate", "group_by": ["a"], "to": "csv"},
    {"operation": "aggregate", "metrics": {"a": ["median"]}},
    {"operation": "convert"},
    {"operation": "convert", "to": "parquet"},
    {"operation": "convert", "to": "xlsx"},
    {"operation": "convert", "to": "csv", "group_by": ["a"]},
    {"operation": "nope"},
    {"operation": "profile", "extra": 1},
]


@pytest.mark.parametrize("params", PARAMS_CASES, ids=json.dumps)
def test_job_params_schema_accepts_exactly_what_the_model_accepts(params: dict[str, Any]) -> None:
    schema = JobParams.model_json_schema()
    by_schema = jsonschema_rs.Draft202012Validator(schema).is_valid(params)
    try:
        JobParams.model_validate(params)
        by_model = True
    except ValidationError:
        by_model = False

    assert by_schema == by_model


def test_every_documented_example_is_valid_for_its_model() -> None:
    models = [
        m
        for m in vars(jobcast.schemas).values()
        if isinstance(m, type) and issubclass(m, BaseModel)
    ]
    with_examples = 0
    for model in models:
        for example in model.model_json_schema().get("examples", []):
            model.model_validate(example)
            with_examples += 1

    assert with_examples >= 5


def example_of(model: type[BaseModel]) -> dict[str, Any]:
    example: dict[str, Any] = model.model_json_schema()["examples"][0]
    return example


@pytest.mark.parametrize(
    ("model", "field", "newer"),
    [
        (jobcast.schemas.Job, "status", "paused"),
        (jobcast.schemas.Order, "status", "expired"),
        (jobcast.schemas.Order, "type", "stop"),
        (jobcast.schemas.Order, "time_in_force", "FOK"),
        (jobcast.schemas.Order, "self_trade_prevention", "cancel_both"),
    ],
)
def test_a_value_a_newer_server_may_add_is_read_as_text(
    model: type[BaseModel], field: str, newer: str
) -> None:
    answer = {**example_of(model), field: newer}

    assert getattr(model.model_validate(answer), field) == newer


def test_an_open_value_still_lists_the_known_ones_in_the_schema() -> None:
    schema = jobcast.schemas.ColumnProfile.model_json_schema()["properties"]["type"]

    assert {
        "enum": ["integer", "float", "boolean", "datetime", "time", "string", "other"],
        "type": "string",
    } in schema["anyOf"]
    assert jsonschema_rs.Draft202012Validator(schema).is_valid("quarter")
