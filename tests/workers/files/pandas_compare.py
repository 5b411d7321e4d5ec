"""Compare a profile result with what pandas reads from the same bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from jobcast.jobs.params import JobParams
from workers.files.runner import Hooks, JobLimits, run_job

#: Most frequent values a profile reports per column (README, "Profile").
TOP_VALUES = 10
LIMITS = JobLimits(
    memory_budget=256 << 20,
    batch_bytes=64 << 10,
    max_decompressed=1 << 30,
    max_columns=2000,
    max_groups=10_000,
    distinct_limit=1000,
)


def run_profile(path: Path, params: JobParams | None = None, limits: JobLimits = LIMITS) -> Any:
    return run_job(path, params or JobParams(), limits, Hooks(), path.parent / "artifact.out")


def assert_matches_pandas(result: dict[str, Any], frame: pd.DataFrame) -> None:
    """Rows, columns, and per column count, nulls, mean, std, min and max (numbers and
    datetimes) or distinct and the top values (text), as pandas has them."""
    assert result["rows"] == len(frame)
    assert [c["name"] for c in result["profile"]] == [str(c) for c in frame.columns]
    for column, name in zip(result["profile"], frame.columns, strict=True):
        series = frame[name]
        assert column["count"] == series.count(), name
        assert column["nulls"] == series.isna().sum(), name
        if column["type"] == "datetime":
            _assert_datetimes(column, pd.to_datetime(series))
        elif column["type"] in ("integer", "float"):
            _assert_numbers(column, series)
        elif column["type"] == "string":
            _assert_text(column, series)


def _assert_numbers(column: dict[str, Any], series: pd.Series) -> None:
    assert pd.api.types.is_numeric_dtype(series), (column["name"], series.dtype)
    if not series.count():
        return
    for stat in ("mean", "std", "min", "max", "25%", "50%", "75%"):
        expected = series.describe()[stat]
        if pd.isna(expected):
            assert column[stat] is None, stat
        elif stat in ("mean", "std"):  # summed in another order than pandas sums
            assert column[stat] == pytest.approx(expected, rel=1e-12), (column["name"], stat)
        else:  # read off the values: bit for bit
            assert column[stat] == expected, (column["name"], stat)


def _assert_datetimes(column: dict[str, Any], series: pd.Series) -> None:
    assert pd.Timestamp(column["min"]) == series.min()
    assert pd.Timestamp(column["max"]) == series.max()


def _assert_text(column: dict[str, Any], series: pd.Series) -> None:
    counts = series.astype(object).dropna().astype(str).value_counts()
    assert column["distinct"] == len(counts), column["name"]
    top = [(e["value"], e["count"]) for e in column["top"]]
    assert top == list(counts.items())[:TOP_VALUES], column["name"]
