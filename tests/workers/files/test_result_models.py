"""The public result models (`jobcast.schemas.jobs`) describe what the workers really compute.

Each result is validated by its model and dumped back as the API serves it (by alias, only the
fields present): the round trip must give the worker's output unchanged, so no field is lost,
renamed or invented by the model.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from jobcast.jobs.params import JobParams
from jobcast.schemas.jobs import AggregateResult, ConvertResult, JobResult, ProfileResult
from tests.workers.files.support import SMALL_BATCHES, mixed_frame
from workers.files.runner import Hooks, run_job

LIMITS = replace(SMALL_BATCHES, max_columns=100)
RESULT = TypeAdapter(JobResult)


def finished(result: dict[str, Any]) -> dict[str, Any]:
    """The result as the task stores it: the runner's output plus its timing."""
    result.update(duration_seconds=0.5, cpu_seconds=0.25, peak_rss_bytes=300 << 20)
    return json.loads(json.dumps(result, default=str))  # as read back from the record


def round_trip(result: dict[str, Any]) -> Any:
    model = RESULT.validate_python(result)
    return model, model.model_dump(mode="json", by_alias=True, exclude_unset=True)


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "t.csv"
    frame = mixed_frame(3000)
    frame["empty"] = None  # a column with no values: no numeric summary at all
    frame.to_csv(path, index=False)
    return path


def test_profile_result_round_trips_through_its_model(table: Path, tmp_path: Path) -> None:
    result = finished(run_job(table, JobParams(), LIMITS, Hooks(), tmp_path / "out"))

    model, dumped = round_trip(result)

    assert isinstance(model, ProfileResult)
    assert dumped == result
    kinds = {c.name: c.type for c in model.profile}
    assert kinds == {
        "qty": "integer",
        "price": "float",
        "fruit": "string",
        "when": "datetime",
        "flag": "boolean",
        "empty": "float",  # all empty: float, as pandas reads it (its summary is all null)
    }


def test_nested_json_profile_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps({"a": i, "tags": [i, i + 1]}) + "\n" for i in range(50)))
    result = finished(run_job(path, JobParams(), LIMITS, Hooks(), tmp_path / "out"))

    model, dumped = round_trip(result)

    assert dumped == result
    assert model.profile[1].type == "other"


def test_aggregate_result_round_trips(table: Path, tmp_path: Path) -> None:
    params = JobParams(
        operation="aggregate",
        group_by=["fruit", "flag"],
        metrics={"price": ["count", "sum", "mean", "min", "max"]},
    )
    result = finished(run_job(table, params, LIMITS, Hooks(), tmp_path / "out"))

    model, dumped = round_trip(result)

    assert isinstance(model, AggregateResult)
    assert dumped == result


@pytest.mark.parametrize("to", ["parquet", "csv"])
def test_convert_result_round_trips(table: Path, tmp_path: Path, to: str) -> None:
    params = JobParams(operation="convert", to=to)  # type: ignore[arg-type]
    result = finished(run_job(table, params, LIMITS, Hooks(), tmp_path / f"out.{to}"))

    model, dumped = round_trip(result)

    assert isinstance(model, ConvertResult)
    assert dumped == result


def test_a_column_type_added_by_a_newer_server_is_read_as_text(table: Path, tmp_path: Path) -> None:
    # A client installed elsewhere lags the server: a type it does not know yet is kept, not
    # refused (a refusal made `Client.result()` raise on every result with such a column).
    result = finished(run_job(table, JobParams(), LIMITS, Hooks(), tmp_path / "out"))
    result["profile"][0]["type"] = "quarter"

    model, dumped = round_trip(result)

    assert model.profile[0].type == "quarter"
    assert dumped == result


def test_a_converted_format_added_by_a_newer_server_is_read_as_text(
    table: Path, tmp_path: Path
) -> None:
    params = JobParams(operation="convert", to="parquet")
    result = finished(run_job(table, params, LIMITS, Hooks(), tmp_path / "out.parquet"))
    result["artifact_format"] = "arrow"

    model, dumped = round_trip(result)

    assert model.artifact_format == "arrow"
    assert dumped == result
