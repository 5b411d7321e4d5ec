"""Nested columns (Parquet structs, lists, maps; JSON Lines objects and arrays) convert to CSV
as JSON text a consumer can parse back to the values pandas reads; profile and aggregate take
them too."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobcast.jobs.params import JobParams
from tests.workers.files.support import SMALL_BATCHES
from workers.files import json_cells
from workers.files.errors import FileJobError
from workers.files.runner import Hooks, run_job

TO_CSV = JobParams(operation="convert", to="csv")


def nested_table() -> pa.Table:
    return pa.table(
        {
            "k": ["a", "b", "a"],
            "s": pa.array([{"x": 1, "y": 'q,"r"'}, None, {"x": None, "y": "é"}]),
            "l": pa.array([[1.5, 2.0], [], None], pa.large_list(pa.float64())),
            "ls": pa.array([[{"p": 1}], None, [{"p": None}]]),
            "fl": pa.array([[1, 2], None, [3, 4]], pa.list_(pa.int64(), 2)),
            "m": pa.array(
                [[("u", [1]), ("v", [])], None, []], pa.map_(pa.string(), pa.list_(pa.int32()))
            ),
        }
    )


def run(path: Path, params: JobParams) -> Any:
    return run_job(path, params, SMALL_BATCHES, Hooks(), path.parent / "out.csv")


def plain(value: Any) -> Any:
    """A value as pandas holds it, in JSON's terms: numpy arrays as lists, NaN as null."""
    if isinstance(value, np.ndarray | list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return None if isinstance(value, float) and np.isnan(value) else value


def pandas_values(frame: pd.DataFrame, name: str) -> list[Any]:
    """Column `name` as pandas reads it, in JSON's terms; a map (pandas: a list of pairs) as
    an object."""
    if name == "m":
        return [None if v is None else {k: plain(x) for k, x in v} for v in frame[name]]
    return [None if v is None else plain(v) for v in frame[name]]


def parsed(cell: Any) -> Any:
    return None if pd.isna(cell) else json.loads(cell)


def test_nested_parquet_columns_convert_to_csv_as_json_of_the_values_pandas_reads(
    tmp_path: Path,
) -> None:
    path = tmp_path / "nested.parquet"
    pq.write_table(nested_table(), path)

    result = run(path, TO_CSV)

    back = pd.read_csv(tmp_path / "out.csv")
    expected = pd.read_parquet(path)
    assert (result["rows"], list(back.columns)) == (3, list(expected.columns))
    assert back["k"].tolist() == expected["k"].tolist()
    for name in ["s", "l", "ls", "fl", "m"]:
        assert [parsed(cell) for cell in back[name]] == pandas_values(expected, name), name
    # An empty map or list is a value ({} or []), not a missing one.
    assert back["m"].tolist()[2] == "{}"
    assert back["l"].tolist()[1] == "[]"


def test_json_lines_objects_and_arrays_convert_to_csv_as_the_json_pandas_reads(
    tmp_path: Path,
) -> None:
    path = tmp_path / "nested.jsonl"
    lines = [
        {"id": 1, "o": {"a": 1, "b": [1, 2]}, "arr": ["x", "y,z"]},
        {"id": 2, "o": None, "arr": []},
        {"id": 3, "o": {"a": None, "b": []}, "arr": None},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))

    run(path, TO_CSV)

    back = pd.read_csv(tmp_path / "out.csv")
    expected = pd.read_json(path, lines=True)
    for name in ["o", "arr"]:
        assert [parsed(cell) for cell in back[name]] == pandas_values(expected, name), name


def test_a_json_lines_object_is_written_with_every_key_its_column_has(tmp_path: Path) -> None:
    # pyarrow reads objects as structs: a key a line leaves out is null there (README).
    path = tmp_path / "keys.jsonl"
    path.write_text('{"o": {"a": 1}}\n{"o": {"b": 2}}\n')

    run(path, TO_CSV)

    assert (tmp_path / "out.csv").read_text().splitlines() == [
        "o",
        '"{""a"":1,""b"":null}"',
        '"{""a"":null,""b"":2}"',
    ]


def test_maps_are_objects_of_every_pair_and_values_json_lacks_are_text(tmp_path: Path) -> None:
    path = tmp_path / "odd.parquet"
    struct = {
        "dec": Decimal("1.50"),
        "raw": b"\xff\x00",
        "nan": float("nan"),
        "day": datetime.date(2024, 1, 31),
        "at": datetime.datetime(2024, 1, 31, 12, 0, 0, 250000),
    }
    day_map = pa.map_(pa.date32(), pa.float64())
    table = pa.table(
        {
            "m": pa.array([[(1, "a"), (1, "b")], [(2, None)]], pa.map_(pa.int64(), pa.string())),
            "dm": pa.array([[(datetime.date(2024, 1, 1), 1.0)], None], day_map),
            "x": pa.array([struct, None]),
        }
    )
    pq.write_table(table, path)

    run(path, TO_CSV)

    back = pd.read_csv(tmp_path / "out.csv")
    # Every pair, in order: a repeated key too (a JSON reader keeps the last, as pandas').
    assert back["m"].tolist() == ['{"1":"a","1":"b"}', '{"2":null}']
    assert back["dm"].tolist()[0] == '{"2024-01-01":1.0}'
    assert json.loads(back["x"][0]) == {
        "dec": 1.5,
        "raw": "/wA=",
        "nan": None,
        "day": "2024-01-31",
        "at": "2024-01-31 12:00:00.250000",
    }
    assert '"dec":1.50' in back["x"][0]


def test_long_lists_are_written_a_slice_at_a_time_with_the_same_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = pa.RecordBatch.from_pydict(
        {"l": pa.array([list(range(n)) for n in range(50)] + [None])}
    )
    whole = json_cells.nested_as_json(batch)
    monkeypatch.setattr(json_cells, "SLICE_BYTES", 64)

    sliced = json_cells.nested_as_json(batch)

    assert sliced.equals(whole)
    assert whole.column(0).to_pylist()[:3] == ["[]", "[0]", "[0,1]"]
    assert whole.column(0).to_pylist()[-1] is None


def test_profile_and_aggregate_of_nested_columns_count_as_pandas(tmp_path: Path) -> None:
    path = tmp_path / "nested.parquet"
    pq.write_table(nested_table(), path)
    frame = pd.read_parquet(path)
    nested = ["s", "l", "ls", "fl", "m"]

    profile = run(path, JobParams())["profile"]
    counts = {name: ["count"] for name in nested}
    aggregate = JobParams(operation="aggregate", group_by=["k"], metrics=counts)
    table = run(path, aggregate)["table"]

    by_name = {column["name"]: column for column in profile}
    for name in nested:
        assert by_name[name]["type"] == "other"
        assert (by_name[name]["count"], by_name[name]["nulls"]) == (
            frame[name].count(),
            frame[name].isna().sum(),
        )
    expected = frame.groupby("k")[nested].count()
    assert table == [
        {"k": key, **{f"{name}_count": int(expected.loc[key, name]) for name in nested}}
        for key in expected.index
    ]


@pytest.mark.parametrize("metric", ["sum", "mean", "min", "max"])
def test_metrics_other_than_count_on_a_nested_column_say_what_it_holds(
    tmp_path: Path, metric: str
) -> None:
    path = tmp_path / "nested.parquet"
    pq.write_table(nested_table(), path)
    params = JobParams(operation="aggregate", group_by=["k"], metrics={"m": [metric]})

    with pytest.raises(FileJobError) as failure:
        run(path, params)

    assert failure.value.code == "unsupported_metric"
    assert "'m', which holds lists or objects" in failure.value.message
