import numpy as np
import pytest

from workers.files.order_statistics import MIN_BINNED, order_statistics

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
