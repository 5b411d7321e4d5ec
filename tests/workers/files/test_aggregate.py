"""Aggregation's sums and means of large numbers, without a file: exact where pandas wraps."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pyarrow as pa

from workers.files.aggregate import Aggregation

INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1


def _aggregate(batches: list[pa.RecordBatch], metrics: list[str]) -> dict[str, Any]:
    agg = Aggregation(["g"], {"v": metrics}, max_groups=10)
    agg.check_columns(batches[0].schema)
    for batch in batches:
        agg.update(batch)
    return {row["g"]: row for row in agg.result()["table"]}


def _batch(keys: list[str], values: list[Any], type_: pa.DataType) -> pa.RecordBatch:
    return pa.record_batch({"g": keys, "v": pa.array(values, type_)})


def _mean(values: list[int]) -> float:
    return float(Fraction(sum(values), len(values)))


def test_mean_of_millisecond_timestamps_past_2_53_in_sum() -> None:
    # 6,000 epoch milliseconds sum to ~1e16: more than a float64 holds every integer of.
    values = [1_700_000_000_000 + i for i in range(6000)]
    batches = [_batch(["a"] * 1000, values[i : i + 1000], pa.int64()) for i in range(0, 6000, 1000)]

    row = _aggregate(batches, ["sum", "mean"])["a"]

    assert row["v_sum"] == sum(values)
    assert row["v_mean"] == _mean(values)


def test_int64_sum_past_int64_is_exact_not_wrapped() -> None:
    rows = _aggregate(
        [_batch(["a", "a", "b"], [INT64_MAX, INT64_MAX, -5], pa.int64())], ["sum", "mean"]
    )

    assert rows["a"]["v_sum"] == 2 * INT64_MAX  # pandas: -2
    assert rows["a"]["v_mean"] == float(INT64_MAX)  # pandas: -1.0
    assert rows["b"]["v_sum"] == -5


def test_sum_that_overflows_only_when_batches_merge_is_exact() -> None:
    batches = [_batch(["a"], [INT64_MAX], pa.int64()) for _ in range(3)]

    row = _aggregate(batches, ["sum", "mean", "min", "max"])["a"]

    assert row["v_sum"] == 3 * INT64_MAX
    assert row["v_mean"] == float(INT64_MAX)
    assert row["v_min"] == row["v_max"] == INT64_MAX


def test_nanosecond_timestamps_mean() -> None:
    values = [1_700_000_000_000_000_000 + i * 1000 for i in range(10)]

    row = _aggregate([_batch(["a"] * 10, values, pa.int64())], ["sum", "mean"])["a"]

    assert row["v_sum"] == sum(values)
    assert row["v_mean"] == _mean(values)


def test_uint64_ids_sum_and_mean() -> None:
    values = [12345678901234567890, UINT64_MAX]

    row = _aggregate([_batch(["a", "a"], values, pa.uint64())], ["sum", "mean", "max"])["a"]

    assert row["v_sum"] == sum(values)  # pandas: 12345678901234567889
    assert row["v_mean"] == _mean(values)
    assert row["v_max"] == UINT64_MAX


def test_decimal_sum_min_max_are_numbers_as_the_mean() -> None:
    type_ = pa.decimal128(12, 2)
    batch = _batch(["a", "a", "b"], [Decimal("123456789.99"), Decimal("1.10"), None], type_)

    rows = _aggregate([batch], ["sum", "mean", "min", "max"])

    assert rows["a"]["v_sum"] == 123456791.09
    assert rows["a"]["v_min"] == 1.1
    assert rows["a"]["v_max"] == 123456789.99
    assert isinstance(rows["b"]["v_sum"], float)
    assert rows["b"]["v_sum"] == 0
    assert rows["b"]["v_min"] is None


def test_whole_decimals_keep_every_digit() -> None:
    # A decimal(20, 0) column holds IDs as uint64 does: as a float, neighbours would merge.
    type_ = pa.decimal128(20, 0)
    batch = _batch(["a", "a"], [Decimal(UINT64_MAX), Decimal(UINT64_MAX - 1)], type_)

    row = _aggregate([batch], ["sum", "min", "max"])["a"]

    assert row["v_sum"] == 2 * UINT64_MAX - 1
    assert (row["v_min"], row["v_max"]) == (UINT64_MAX - 1, UINT64_MAX)
    assert all(type(row[f"v_{m}"]) is int for m in ("sum", "min", "max"))
