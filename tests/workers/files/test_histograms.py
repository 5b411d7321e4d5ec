"""A few values are binned in Python: the counts and edges are numpy's own, to the bit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.files.histograms import SMALL_VALUES, histogram

# Values whose range numpy spans without overflowing (it warns, and so the tests fail, beyond).
finite = st.floats(-1e300, 1e300) | st.floats(-1.0, 1.0)


def assert_as_numpy(
    values: Any, number: int, first: float, last: float, weights: Any = None
) -> None:
    counts, edges = histogram(values, number, first, last, weights)
    want_counts, want_edges = np.histogram(
        values, bins=number, range=(first, last), weights=weights
    )
    assert counts.tolist() == want_counts.astype(np.int64).tolist()
    assert edges.tobytes() == want_edges.tobytes()


@settings(max_examples=400, deadline=None)
@given(st.lists(finite, min_size=1, max_size=SMALL_VALUES), st.integers(1, 20))
def test_float_values_land_in_the_bins_numpy_puts_them_in(raw: list[float], number: int) -> None:
    values = np.array(raw)
    low, high = float(values.min()), float(values.max())
    if not (low < high and np.isfinite(high - low)):
        return
    if np.any(np.diff(np.linspace(low, high, number + 1)) <= 0):
        # A range a few floats wide has no `number` rising edges: numpy refuses, as we do
        # (the profile asks for fewer bins then: tests/workers/files/test_profile.py).
        with pytest.raises(ValueError, match="Too many bins for data range"):
            histogram(values, number, low, high)
        return
    assert_as_numpy(values, number, low, high)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=SMALL_VALUES, unique=True))
def test_weighted_integers_count_as_numpy_counts_them(raw: list[int]) -> None:
    values = np.sort(np.array(raw, dtype=np.float64))
    weights = np.arange(1, len(raw) + 1, dtype=np.int64)
    low, high = float(values[0]), float(values[-1])
    assert_as_numpy(values, 7, low, high + 3, weights)  # an integer column's last bin reaches past


def test_values_on_the_edges_and_out_of_range_are_binned_as_numpy_bins_them() -> None:
    edges = np.linspace(2.5, 4.5, 21)
    values = np.concatenate([edges, [2.4, 4.6, np.nan, 3.9000000000000004]])
    assert_as_numpy(values, 20, 2.5, 4.5)


def test_many_values_and_a_range_too_narrow_to_split_go_to_numpy() -> None:
    assert_as_numpy(np.arange(SMALL_VALUES * 3, dtype=np.float64), 20, 0.0, 100.0)
    tiny = 5e-324  # no 20 distinct edges fit between 0 and it: numpy refuses, as we do
    with pytest.raises(ValueError, match="Too many bins for data range"):
        histogram(np.array([0.0, tiny]), 20, 0.0, tiny)
