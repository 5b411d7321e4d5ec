import numpy as np
import pytest

from workers.files.order_statistics import MIN_BINNED, FineBins, order_statistics

N = MIN_BINNED * 3 + 7
RANKS = [0, 1, N // 4, N // 4 + 1, N // 2, N // 2 + 1, N - 2, N - 1]


def _partitioned(values: np.ndarray, ranks: list[int]) -> dict[int, float]:
    copy = values.copy()
    copy.partition(sorted(set(ranks)))
    return {rank: float(copy[rank]) for rank in ranks}


def _bits(found: dict[int, float]) -> dict[int, bytes]:
    return {rank: np.float64(value).tobytes() for rank, value in found.items()}


def _columns() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    return {
        "normal": np.round(rng.normal(100, 30, N), 2),
        "uniform": rng.uniform(-1e6, 1e6, N),
        "few values": rng.integers(0, 5, N).astype(np.float64),
        "sorted": np.arange(N, dtype=np.float64),
        "reversed": np.arange(N, 0, -1, dtype=np.float64),
        "skewed": rng.lognormal(0, 4, N),
        "one outlier": np.concatenate([rng.uniform(0, 1, N - 1), [1e300]]),
        "tiny range": 1.0 + rng.integers(0, 3, N) * np.finfo(np.float64).eps,
        "huge range": np.concatenate([rng.uniform(-1, 1, N - 2) * 1e308, [-1.7e308, 1.7e308]]),
    }


@pytest.mark.parametrize("name", list(_columns()))
def test_order_statistics_are_those_of_a_partition_bit_for_bit(name: str) -> None:
    values = _columns()[name]
    assert _bits(order_statistics(values.copy(), RANKS)) == _bits(_partitioned(values, RANKS))


@pytest.mark.parametrize(
    "special", [np.nan, np.inf, -np.inf, 0.0, -0.0], ids=["nan", "inf", "-inf", "zero", "-zero"]
)
def test_nan_infinities_and_zeros_give_a_partitions_answer(special: float) -> None:
    rng = np.random.default_rng(5)
    values = rng.normal(0, 1, N)
    values[rng.integers(0, N, 50)] = special
    values[rng.integers(0, N, 50)] = -0.0 if special == 0.0 else special
    found, expected = order_statistics(values.copy(), RANKS), _partitioned(values, RANKS)
    assert _bits(found) == _bits(expected)


def test_one_value_throughout() -> None:
    values = np.full(N, 7.5)
    assert order_statistics(values, RANKS) == dict.fromkeys(RANKS, 7.5)


def test_few_values_are_partitioned_whole() -> None:
    values = np.array([3.0, 1.0, 2.0, 5.0, 4.0])
    assert order_statistics(values, [0, 2, 4]) == {0: 1.0, 2: 3.0, 4: 5.0}


def _edges(values: np.ndarray, bins: int, last: float | None = None) -> np.ndarray:
    return np.linspace(values.min(), values.max() if last is None else last, bins + 1)


# numpy refuses the tiny range (too many bins for it), and the huge one (past float64).
@pytest.mark.parametrize("name", [n for n in _columns() if not n.endswith(" range")])
def test_histogram_counts_are_numpys(name: str) -> None:
    values = _columns()[name]
    fine = FineBins.of(values)
    assert fine is not None
    edges = _edges(values, 20)
    expected, numpy_edges = np.histogram(values, bins=20, range=(edges[0], edges[-1]))
    assert (numpy_edges == edges).all()
    assert fine.histogram(edges).tolist() == expected.tolist()


def test_histogram_of_integers_on_whole_edges_past_the_maximum() -> None:
    # An integer column's bins are whole numbers wide from its minimum: values sit on edges,
    # and the last edge lies past the maximum.
    values = np.random.default_rng(9).integers(-50, 47, N).astype(np.float64)
    fine = FineBins.of(values)
    assert fine is not None
    edges = np.linspace(-50.0, 50.0, 21)
    expected, _ = np.histogram(values, bins=20, range=(-50.0, 50.0))
    assert fine.histogram(edges).tolist() == expected.tolist()


def test_histogram_leaves_out_values_outside_the_edges() -> None:
    values = np.random.default_rng(4).uniform(0, 100, N)
    fine = FineBins.of(values)
    assert fine is not None
    edges = np.linspace(10.0, 90.0, 21)
    expected, _ = np.histogram(values, bins=20, range=(10.0, 90.0))
    assert fine.histogram(edges).tolist() == expected.tolist()


@pytest.mark.parametrize("special", [np.nan, np.inf], ids=["nan", "inf"])
def test_no_bins_for_nan_or_infinities(special: float) -> None:
    values = np.random.default_rng(2).uniform(0, 1, N)
    values[7] = special
    assert FineBins.of(values) is None
