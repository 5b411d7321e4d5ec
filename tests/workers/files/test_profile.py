"""A column's histogram bins, on its own: an integer column's bins hold whole integers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from workers.files.profile import HISTOGRAM_BINS, Bins, ColumnProfile, histogram_bins


def histogram_of(values: pa.Array) -> dict[str, Any]:
    column = ColumnProfile("qty", values.type, distinct_limit=10_000, quantile_values=1_000_000)
    column.update(values)
    histogram: dict[str, Any] = column.summary()["histogram"]
    return histogram


def test_an_integer_column_spread_evenly_has_no_false_dips() -> None:
    # qty uniform over 0-96: 20 bins 4.8 wide held 4 or 5 integers in turn, so every ~5th bar
    # was shorter though every value was as frequent as the others.
    histogram = histogram_of(pa.array(np.tile(np.arange(97), 10)))
    assert histogram["edges"] == list(range(0, 101, 5))
    assert all(type(edge) is int for edge in histogram["edges"])  # whole numbers, said so
    assert histogram["counts"] == [50] * 19 + [20]  # the last bin, 95-99, holds 95 and 96 only


def test_an_integer_column_spanning_few_values_has_one_bin_per_value() -> None:
    histogram = histogram_of(pa.array([3, 4, 4, 6, 6, 6]))
    assert histogram["edges"] == [3, 4, 5, 6, 7]
    assert histogram["counts"] == [1, 2, 0, 3]


def test_a_float_column_keeps_twenty_equal_bins_from_min_to_max() -> None:
    histogram = histogram_of(pa.array(np.tile(np.arange(97), 10), pa.float64()))
    assert histogram["edges"] == np.linspace(0, 96, HISTOGRAM_BINS + 1).tolist()


def test_a_float_column_too_narrow_for_twenty_bins_gets_as_many_as_fit() -> None:
    # Two neighbouring floats (1.0 and the next one up): numpy could not make 20 rising edges
    # between them and refused ("Too many bins for data range"): the whole job failed.
    low, high = 1.0, float(np.nextafter(1.0, 2.0))
    histogram = histogram_of(pa.array([low, high, high]))
    assert histogram["edges"] == [low, high]
    assert histogram["counts"] == [3]
    within = [low + i * 2.0**-52 for i in range(6)]  # six floats in a row: five bins fit
    histogram = histogram_of(pa.array(within))
    assert histogram["edges"] == within
    assert histogram["counts"] == [1, 1, 1, 1, 2]


def test_integer_bins_are_whole_numbers_wide_and_at_most_the_bin_count() -> None:
    for low, high in [(0, 19), (0, 20), (-500, 499), (7, 8), (0, 10**12 + 3)]:
        bins = histogram_bins(low, high, integral=True)
        width = (bins.last - bins.first) / bins.number
        assert bins.whole, (low, high)
        assert 1 <= bins.number <= HISTOGRAM_BINS, (low, high)
        assert width == int(width) >= 1, (low, high)
        # From min, reaching max, with no bin past it.
        assert bins.first == low, (low, high)
        assert bins.last - width <= high < bins.last, (low, high)


def test_a_float_column_or_integers_past_float_precision_get_equal_bins_min_to_max() -> None:
    assert histogram_bins(0.5, 96.5, integral=False) == Bins(HISTOGRAM_BINS, 0.5, 96.5, False)
    # Past 2**53 float64 cannot hold each integer: whole-number edges would not be whole.
    big = 2**60
    assert histogram_bins(big, big + 96, integral=True) == Bins(20, big, big + 96, False)


def numeric_summary(batches: list[pa.Array], distinct_limit: int) -> dict[str, Any]:
    column = ColumnProfile("n", batches[0].type, distinct_limit, quantile_values=1_000_000)
    for batch in batches:
        column.update(batch)
    summary = column.summary()
    return {k: summary[k] for k in ("25%", "50%", "75%", "min", "max", "histogram")}


def test_integers_counted_exactly_give_the_quantiles_and_histogram_their_values_give() -> None:
    # Read off the exact counts (few distinct values) or off every value kept (more distinct
    # values than counted exactly): bit for bit the same summary.
    rng = np.random.default_rng(3)
    cases = [
        [pa.array(rng.integers(-50, 950, 997)) for _ in range(3)],
        [pa.array(rng.integers(0, 3, 10)), pa.array([7, None, 7])],
        [pa.array([2**62 + 1, 2**62 + 3, 2**62 + 1, -(2**62)], pa.int64())],
        [pa.array([5, 5, 5], pa.uint8())],
        [pa.array(rng.integers(0, 2**64 - 1, 40, dtype=np.uint64))],
    ]
    for batches in cases:
        assert numeric_summary(batches, 10_000) == numeric_summary(batches, 1)
