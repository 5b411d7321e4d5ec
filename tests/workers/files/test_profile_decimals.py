"""A decimal column's profile, batch by batch: its min, max, quantiles and top values are its
decimals, as pandas reads them (`Decimal` objects), not their float64s."""

from __future__ import annotations

import math
import random
from decimal import Decimal
from typing import Any

import pyarrow as pa

from workers.files.profile import QUANTILES, ColumnProfile

IDS = pa.decimal128(20, 0)
MONEY = pa.decimal128(12, 2)


def profile(values: list[Decimal | None], type_: pa.DataType, batch: int) -> dict[str, Any]:
    column = ColumnProfile("x", type_, distinct_limit=1000, quantile_values=1_000_000)
    array = pa.array(values, type_)
    for start in range(0, len(array), batch):
        column.update(array.slice(start, batch))
    return column.summary()


def linear_quantile(values: list[Decimal], q: float) -> Decimal:
    """pandas' linear interpolation, worked out in decimal."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    a, b = ordered[low], ordered[min(low + 1, len(ordered) - 1)]
    return a + (b - a) * Decimal(position - low)


def test_neighbouring_ids_past_float_precision_keep_their_own_min_and_max() -> None:
    # Both share one float64 (1.2345678901234567e19): min and max were the same figure.
    ids = [Decimal("12345678901234567892"), None, Decimal("12345678901234567891")]
    summary = profile(ids, IDS, batch=1)
    assert (summary["min"], summary["max"]) == (12345678901234567891, 12345678901234567892)
    assert type(summary["min"]) is int
    assert summary["distinct"] == 2
    assert [t["value"] for t in summary["top"]] == [12345678901234567892, 12345678901234567891]


def test_ids_past_the_distinct_limit_are_estimated_apart() -> None:
    ids = [Decimal(12345678901234567000 + i) for i in range(50)]
    column = ColumnProfile("x", IDS, distinct_limit=10, quantile_values=1_000)
    column.update(pa.array(ids, IDS))
    assert column.summary()["distinct"] == 50  # not the handful of float64s they round to


def test_money_min_max_and_quantiles_are_its_decimals_exactly() -> None:
    rng = random.Random(3)
    money = [Decimal(rng.randint(-(10**11), 10**11)).scaleb(-2) for _ in range(4998)]
    # Extremes Arrow's float64 cast missed by an ulp (…731.7400002), and quantiles between
    # two values (5000 of them), where float64 interpolation adds its own noise.
    money += [Decimal("2504125731.74"), Decimal("-9804947819.21")]
    summary = profile([*money, None], MONEY, batch=700)
    assert Decimal(repr(summary["min"])) == min(money)
    assert Decimal(repr(summary["max"])) == max(money)
    for q, name in zip(QUANTILES, ("25%", "50%", "75%"), strict=True):
        assert Decimal(repr(summary[name])) == linear_quantile(money, q), name
    assert summary["quantiles_exact"] is True
    assert math.isclose(summary["mean"], float(sum(money) / len(money)), rel_tol=1e-12)


def test_a_quantile_between_two_cents_has_no_float_noise() -> None:
    summary = profile([Decimal("0.10"), Decimal("0.20")], MONEY, batch=1)
    assert (summary["25%"], summary["50%"], summary["75%"]) == (0.125, 0.15, 0.175)
    assert repr(summary["50%"]) == "0.15"
