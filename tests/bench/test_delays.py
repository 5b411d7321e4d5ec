from __future__ import annotations

import math

from bench.delays import between, quantile, share_within

INF = math.inf


def test_a_runs_writes_are_the_difference_of_two_readings() -> None:
    before = [(0.001, 5.0), (0.005, 8.0), (INF, 10.0)]
    after = [(0.001, 95.0), (0.005, 106.0), (INF, 110.0)]
    assert between(before, after) == [(0.001, 90.0), (0.005, 98.0), (INF, 100.0)]


def test_a_quantile_is_interpolated_within_its_bucket_as_prometheus_does() -> None:
    run = [(0.001, 50.0), (0.005, 90.0), (0.01, 100.0), (INF, 100.0)]
    assert quantile(run, 0.5) == 0.001
    assert math.isclose(quantile(run, 0.7), 0.001 + 0.004 * 20 / 40)
    assert math.isclose(quantile(run, 0.99), 0.005 + 0.005 * 9 / 10)
    assert share_within(run, 0.005) == 0.9


def test_past_the_last_bound_a_quantile_says_at_least_that_bound() -> None:
    assert quantile([(0.001, 1.0), (INF, 4.0)], 0.99) == 0.001
