"""The profile agrees with pandas' describe() and value_counts() on generated files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobcast.jobs.params import JobParams
from tests.workers.files.pandas_compare import LIMITS, TOP_VALUES
from tests.workers.files.support import mixed_frame
from workers.files.runner import Hooks, JobLimits, run_job


def profile(path: Path, limits: JobLimits = LIMITS) -> dict[str, dict[str, Any]]:
    result = run_job(path, JobParams(), limits, Hooks(), path.with_suffix(".out"))
    return {c["name"]: c for c in result["profile"]}


def assert_numeric_matches(column: dict[str, Any], series: pd.Series) -> None:
    described = series.describe()
    assert column["count"] == described["count"]
    assert column["nulls"] == series.isna().sum()
    for stat in ("mean", "std", "min", "max", "25%", "50%", "75%"):
        assert column[stat] == pytest.approx(described[stat], rel=1e-9), stat
    assert column["quantiles_exact"] is True
    counts, edges = np.histogram(series.dropna(), bins=bin_edges(series.dropna()))
    assert column["histogram"]["counts"] == counts.tolist()
    assert column["histogram"]["edges"] == pytest.approx(edges.tolist())


def bin_edges(values: pd.Series) -> int | list[int]:
    """numpy's 20 equal bins, min to max; for integers, whole-number-wide bins from min, as
    few as cover max (at most 20), so each bin holds as many integers as the next."""
    if not pd.api.types.is_integer_dtype(values):
        return 20
    low, high = int(values.min()), int(values.max())
    width = -(-(high - low + 1) // 20)
    return list(range(low, high + width + 1, width))


def assert_categorical_matches(column: dict[str, Any], series: pd.Series) -> None:
    counts = series.value_counts()
    assert column["count"] == series.count()
    assert column["distinct"] == series.nunique()
    assert column["distinct_exact"] is True
    top = [(e["value"], e["count"]) for e in column["top"]]
    # All of pandas' first ten, no fewer: ties in first-seen order, as value_counts.
    assert top == list(counts.items())[:TOP_VALUES]


def test_csv_profile_agrees_with_describe_and_value_counts(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    mixed_frame(30_000).to_csv(path, index=False)

    columns = profile(path)

    frame = pd.read_csv(path, parse_dates=["when"])
    assert_numeric_matches(columns["qty"], frame["qty"])
    assert_numeric_matches(columns["price"], frame["price"])
    assert_categorical_matches(columns["fruit"], frame["fruit"])
    # 1,000 distinct quantities: the top is cut at ten, as pandas' first ten.
    assert_categorical_matches(columns["qty"], frame["qty"])
    assert columns["flag"]["type"] == "boolean"
    assert columns["flag"]["count"] == 30_000


def test_datetime_column_has_pandas_min_max_mean_and_quantiles(tmp_path: Path) -> None:
    path = tmp_path / "dates.csv"
    mixed_frame(10_000).to_csv(path, index=False)

    when = profile(path)["when"]

    described = pd.read_csv(path, parse_dates=["when"])["when"].describe()
    assert when["type"] == "datetime"
    assert pd.Timestamp(when["min"]) == described["min"]
    assert pd.Timestamp(when["max"]) == described["max"]
    for stat in ("mean", "25%", "50%", "75%"):
        assert abs(pd.Timestamp(when[stat]) - described[stat]) < pd.Timedelta("1ms"), stat


def test_missing_values_are_counted_as_pandas_does(tmp_path: Path) -> None:
    path = tmp_path / "nulls.csv"
    path.write_text("a,b,c\n1,x,\n,y,\nNA,,\n4,x,\n5,NaN,\n")

    columns = profile(path)

    frame = pd.read_csv(path)
    for name in "abc":
        assert columns[name]["nulls"] == frame[name].isna().sum(), name
        assert columns[name]["count"] == frame[name].count(), name
    assert columns["a"]["mean"] == pytest.approx(frame["a"].mean())


def test_messy_csv_with_quotes_semicolons_and_a_late_text_value(tmp_path: Path) -> None:
    rows = ["id;name;amount;note"]
    rows += [f'{i};"Smith; J.";{i * 1.5};"said ""hi""\non two lines"' for i in range(3000)]
    rows += ["3000;O'Brien;unknown;plain"]  # a text value in a numeric column, far down the file
    path = tmp_path / "messy.csv"
    path.write_text("\n".join(rows) + "\n")

    columns = profile(path)

    frame = pd.read_csv(path, sep=";")
    assert len(columns) == 4
    assert columns["id"]["mean"] == pytest.approx(frame["id"].mean())
    assert columns["amount"]["type"] == "string"  # as pandas: object, since one value is text
    assert_categorical_matches(columns["name"], frame["name"])
    assert columns["amount"]["distinct"] == frame["amount"].nunique()
    assert columns["note"]["top"][0] == {"value": 'said "hi"\non two lines', "count": 3000}


def test_jsonl_gzip_tsv_and_parquet_give_the_same_profile(tmp_path: Path) -> None:
    frame = mixed_frame(5_000).drop(columns=["when"])
    csv_path, tsv_path = tmp_path / "t.csv", tmp_path / "t.tsv"
    frame.to_csv(csv_path, index=False)
    frame.to_csv(tsv_path, index=False, sep="\t")
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in json.loads(frame.to_json(orient="records"))))
    gz = tmp_path / "t.csv.gz"
    gz.write_bytes(gzip.compress(csv_path.read_bytes()))
    parquet = tmp_path / "t.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), parquet, row_group_size=1000)

    baseline = profile(csv_path)
    for other in (tsv_path, jsonl, gz, parquet):
        columns = profile(other)
        for name in ("qty", "price"):
            for stat in ("count", "nulls", "mean", "std", "min", "max", "50%"):
                assert columns[name][stat] == pytest.approx(baseline[name][stat]), (
                    other,
                    name,
                    stat,
                )
        assert columns["fruit"]["top"] == baseline["fruit"]["top"], other


def test_infinities_are_profiled_as_pandas_and_left_out_of_the_histogram(tmp_path: Path) -> None:
    # A job with `inf` in a column failed internal_error: numpy bins no infinite range.
    frame = pd.DataFrame({"v": [1.0, 2.0, np.inf, -np.inf, 3.0, np.nan], "w": [np.inf] * 6})
    csv_path, parquet_path = tmp_path / "inf.csv", tmp_path / "inf.parquet"
    frame.to_csv(csv_path, index=False)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), parquet_path)
    for path in (csv_path, parquet_path):
        columns = profile(path)
        with np.errstate(invalid="ignore"):  # pandas' quantiles between -inf and inf: NaN
            described = frame["v"].describe()
        for stat in ("count", "mean", "std", "min", "max"):
            assert columns["v"][stat] == pytest.approx(described[stat], nan_ok=True), stat
        assert columns["v"]["histogram"]["edges"][0] == 1.0  # the finite values' bins
        assert columns["v"]["histogram"]["edges"][-1] == 3.0
        assert sum(columns["v"]["histogram"]["counts"]) == 3
        assert columns["w"]["max"] == np.inf
        assert columns["w"]["histogram"] is None  # nothing finite to bin


def test_a_float_columns_top_is_pandas_value_counts_infinities_and_all(tmp_path: Path) -> None:
    # describe() has no top for a number column (NaN beside a text one); ours is value_counts'.
    path = tmp_path / "inf.parquet"
    frame = pd.DataFrame({"v": [np.inf, 1.5, -np.inf, np.inf, np.nan, 1.5, np.inf, 2.0]})
    frame.to_parquet(path, index=False)

    column = profile(path)["v"]

    with np.errstate(invalid="ignore"):  # pandas' quantiles between -inf and inf: NaN
        assert pd.isna(frame.assign(s="a").describe(include="all").loc["top", "v"])
    counts = frame["v"].value_counts()
    assert [(e["value"], e["count"]) for e in column["top"]] == list(counts.items())
    assert column["freq"] == counts.iloc[0]


def test_past_the_exact_bounds_distinct_and_quantiles_are_flagged_estimates(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(0, 1, 400_000)
    path = tmp_path / "big.csv"
    pd.DataFrame({"x": values, "id": [f"u{i}" for i in range(len(values))]}).to_csv(
        path, index=False
    )
    small = JobLimits(
        memory_budget=4 << 20,
        batch_bytes=256 << 10,
        max_decompressed=1 << 30,
        max_columns=10,
        max_groups=10,
        distinct_limit=1000,
    )

    columns = profile(path, small)

    x, ids = columns["x"], columns["id"]
    assert x["quantiles_exact"] is False
    assert x["mean"] == pytest.approx(values.mean(), abs=1e-12)
    ranks = np.searchsorted(np.sort(values), [x["25%"], x["50%"], x["75%"]]) / len(values)
    assert np.abs(ranks - [0.25, 0.5, 0.75]).max() < 0.01  # the documented 1 % rank error
    assert ids["distinct_exact"] is False
    assert ids["distinct"] == pytest.approx(len(values), rel=0.06)


def test_nested_json_values_are_counted_but_not_summarised(tmp_path: Path) -> None:
    path = tmp_path / "nested.jsonl"
    rows = [{"id": i, "tags": ["a", "b"][: i % 3], "meta": {"k": i}} for i in range(100)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")

    columns = profile(path)

    assert columns["id"]["mean"] == pytest.approx(49.5)
    assert columns["tags"]["type"] == columns["meta"]["type"] == "other"
    assert columns["meta"]["count"] == 100


def test_a_profile_of_the_worst_of_real_files_still_matches_pandas(tmp_path: Path) -> None:
    # Bare CR endings, a numeric header, a sparse column, short rows and pandas' NA spellings
    # in one file: every column as pandas reads it.
    rows = [f"{i},,x{i % 7},None" for i in range(15_000)]
    rows += [f"{i},{i * 0.25},<NA>" for i in range(15_000, 15_050)]
    path = tmp_path / "worst.csv"
    path.write_bytes(("id,2020,2021,2022\r" + "\r".join(rows) + "\r").encode())

    columns = profile(path)

    frame = pd.read_csv(path)
    assert list(columns) == list(frame.columns)
    assert_numeric_matches(columns["2020"], frame["2020"])
    assert_categorical_matches(columns["2021"], frame["2021"])
    assert columns["2022"]["count"] == frame["2022"].count() == 0
    assert columns["2022"]["type"] == "float"  # pandas: float64
