"""The bounded summaries: deterministic hashes, distinct estimates, value counts, samples."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pyarrow as pa
import pytest

from workers.files.sketches import (
    SAMPLE_SIZE,
    DistinctSketch,
    QuantileStore,
    ValueCounts,
    hash_values,
    quantiles,
)


def test_hashes_are_stable_and_tell_values_apart() -> None:
    strings = pa.array(["a", "b", "", "ab", "ba", None, "a"])
    hashed = hash_values(strings)

    assert len(hashed) == 6  # nulls dropped
    assert hashed[0] == hashed[5]
    assert len(set(hashed.tolist())) == 5
    assert hash_values(pa.array([1, 2, 3])).tolist() == hash_values(pa.array([1, 2, 3])).tolist()


def test_distinct_estimate_is_within_a_few_percent() -> None:
    sketch = DistinctSketch()
    for start in range(0, 300_000, 50_000):
        sketch.update(hash_values(pa.array([f"v{i}" for i in range(start, start + 50_000)])))
        sketch.update(hash_values(pa.array([f"v{i}" for i in range(start, start + 1000)])))

    assert sketch.estimate() == pytest.approx(300_000, rel=0.06)


def test_value_counts_are_exact_below_the_limit_and_flagged_above() -> None:
    counts = ValueCounts(limit=5)
    counts.update(pa.array(["x", "x", "y", None]))
    counts.update(pa.array(["y", "y", "z"]))
    assert counts.exact
    assert counts.top(2) == [("y", 3), ("x", 2)]
    assert counts.distinct() == 3

    counts.update(pa.array([f"u{i}" for i in range(10)] + ["y"] * 10))

    assert not counts.exact
    assert counts.top(1) == [("y", 13)]
    assert counts.seen_at_overflow is not None


def test_quantile_store_switches_to_a_fixed_size_reproducible_sample() -> None:
    def run() -> QuantileStore:
        store = QuantileStore(max_values=100_000)
        rng = np.random.default_rng(0)
        for _ in range(6):
            store.update(rng.uniform(0, 1, 50_000))
        return store

    first, second = run(), run()

    assert not first.exact
    values = np.sort(first.take())
    assert len(values) == 100_000
    assert values.tolist() == np.sort(second.take()).tolist()
    assert quantiles(values, (0.5,))[0] == pytest.approx(0.5, abs=0.01)


def test_the_sample_does_not_depend_on_the_batches_kept_before_the_switch() -> None:
    # The switch samples the kept values part by part (no copy of them all); the keys drawn
    # are those one draw for all the values would give, so the sample is the same.
    values = np.random.default_rng(5).normal(size=3 * SAMPLE_SIZE)
    at_once, in_parts = QuantileStore(SAMPLE_SIZE), QuantileStore(SAMPLE_SIZE)
    at_once.update(values.copy())
    kept = 9 * SAMPLE_SIZE // 10  # in ten parts, under the limit; the last part crosses it
    for part in [*np.split(values[:kept], 10), values[kept:]]:
        in_parts.update(part.copy())

    assert not at_once.exact
    assert not in_parts.exact
    assert np.array_equal(np.sort(at_once.take()), np.sort(in_parts.take()))


def test_exact_values_are_kept_whole_in_one_batch_or_many_without_reserving_the_limit() -> None:
    # A one-batch column holds its own values, not an array for `max_values` (whose first
    # write faulted in a fresh page per numeric column of every tiny job); a second batch moves
    # them into the full array, and every value kept is still there, in order.
    tracemalloc.start()
    one = QuantileStore(max_values=10_000_000)
    one.update(np.array([3.0, 1.0, 2.0]))
    reserved = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert reserved < 1024**2, reserved
    assert one.exact
    assert one.take().tolist() == [3.0, 1.0, 2.0]

    batches = [np.random.default_rng(i).normal(size=n) for i, n in enumerate((3, 40_000, 7))]
    many = QuantileStore(max_values=10_000_000)
    for batch in batches:
        many.update(batch)
    assert many.exact
    assert many.take().tolist() == np.concatenate(batches).tolist()


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 1001, 100_000])
def test_quantiles_are_those_of_the_sorted_values_bit_for_bit(n: int) -> None:
    # Partitioned, not sorted: the ranks read must still hold exactly the sorted values'.
    values = np.random.default_rng(n).normal(size=n).round(2)  # ties, as real columns have
    qs = (0.25, 0.5, 0.75)
    ordered = np.sort(values)
    assert quantiles(values, qs) == quantiles(ordered.copy(), qs)  # as when they were sorted
    assert quantiles(values, qs) == np.quantile(ordered, qs).tolist()  # numpy's, so pandas'


@pytest.mark.parametrize("scale", [1e-5, 1.0, 1e9, 1e14])
def test_quantiles_interpolate_bit_for_bit_as_numpy(scale: float) -> None:
    # From the nearer end, as numpy does: from the lower one, the last bit differed.
    for n in (3, 7, 10, 101, 1001):
        values = np.random.default_rng(n).normal(size=n) * scale
        assert (
            quantiles(values.copy(), (0.25, 0.5, 0.75))
            == np.quantile(values, (0.25, 0.5, 0.75)).tolist()
        )


@pytest.mark.parametrize(
    "values",
    [
        [-np.inf, 1.0, 2.0],
        [1.0, 2.0, np.inf],
        [-np.inf, 1e300, np.inf],
        [np.inf] * 3,
        [-np.inf, 5.0],
    ],
)
def test_quantiles_beside_infinities_are_numpys(values: list[float]) -> None:
    with np.errstate(invalid="ignore"):
        expected = np.quantile(values, (0.25, 0.5, 0.75)).tolist()
        got = quantiles(np.array(values), (0.25, 0.5, 0.75))
    assert np.array_equal(got, expected, equal_nan=True)


def test_the_batch_that_crosses_the_limit_is_counted_once() -> None:
    counts = ValueCounts(limit=3)
    counts.update(pa.array(["a", "b"]))
    counts.update(pa.array(["a", "c", "d"]))

    assert not counts.exact
    assert [c for _, c in counts.top(3)] == [2, 1, 1]
    assert counts.top(3) == [("a", 2), ("b", 1), ("c", 1)]  # ties: first seen, as pandas


def test_ties_keep_first_seen_order_before_and_after_the_limit() -> None:
    exact = ValueCounts(limit=10)
    exact.update(pa.array(["z", "y", "x"]))
    exact.update(pa.array(["w", "x"]))
    assert exact.top(4) == [("x", 2), ("z", 1), ("y", 1), ("w", 1)]

    approximate = ValueCounts(limit=2)
    approximate.update(pa.array(["z", "y"]))
    approximate.update(pa.array(["x", "w", "y"]))
    assert approximate.top(2) == [("y", 2), ("z", 1)]


def test_the_estimate_the_profile_clamps_does_overshoot() -> None:
    # The data of the profile's clamping test: the raw estimate exceeds the true 12,000.
    sketch = DistinctSketch()
    sketch.update(hash_values(pa.array([f"id{i}" for i in range(12_000)])))
    assert sketch.estimate() > 12_000


@pytest.mark.parametrize(
    ("type_", "low", "high"),
    [(pa.int64(), -5, 60), (pa.int8(), -128, 127), (pa.uint64(), 2**64 - 40, 2**64 - 1)],
)
def test_known_integers_are_counted_as_a_hash_table_counts_them(
    type_: pa.DataType, low: int, high: int
) -> None:
    # Batches whose values are all counted already take the bincount path; the counts, their
    # order (which ranks ties) and the top values are those of counting every batch by hash.
    rng = np.random.default_rng(3)
    dtype = np.uint64 if pa.types.is_unsigned_integer(type_) else np.int64
    batches = [
        pa.array(rng.integers(low, high, 2000, endpoint=True, dtype=dtype), type=type_)
        for _ in range(12)
    ]
    fast, hashed = ValueCounts(10_000), ValueCounts(10_000)
    hashed._add_known_integers = lambda _values: False  # type: ignore[method-assign]
    for batch in batches:
        fast.update(batch)
        hashed.update(batch)

    assert fast.top(5) == hashed.top(5)  # first: adds the counts still pending to the dict
    assert list(fast.counts.items()) == list(hashed.counts.items())
    assert all(type(count) is int for count in fast.counts.values())


def test_pending_integer_counts_are_added_before_new_values_are() -> None:
    batches = [range(10), range(10), range(20), range(5, 10), range(-3, 2), range(20)]
    fast, hashed = ValueCounts(10_000), ValueCounts(10_000)
    hashed._add_known_integers = lambda _values: False  # type: ignore[method-assign]
    for values in batches:
        fast.update(pa.array([*values, 7, 7], type=pa.int32()))
        hashed.update(pa.array([*values, 7, 7], type=pa.int32()))
    assert fast.top(30) == hashed.top(30)
    assert list(fast.counts.items()) == list(hashed.counts.items())


def test_unsigned_integers_past_int64_hash_apart_and_stably() -> None:
    values = pa.array([2**64 - 1, 2**63, 1, 2**63], pa.uint64())
    hashed = hash_values(values).tolist()
    assert hashed[1] == hashed[3]
    assert len(set(hashed)) == 3
    assert hashed == hash_values(values).tolist()
