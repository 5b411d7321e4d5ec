"""The storm bench's collection figures: the longest pause beside its own CPU time."""

from __future__ import annotations

import pytest

from bench.storm import pauses


def test_the_longest_pause_is_reported_with_its_generation_and_cpu_time() -> None:
    records = [
        (1.0, 0, 0.002, 10, 0, 0.002),
        (2.0, 1, 0.200, 500, 0, 0.040),  # mostly off the CPU: 40 ms of 200
        (3.0, 1, 0.050, 0, 0, 0.050),
    ]
    got = pauses(records)
    assert got["gc_max_storm_generation"] == 1
    assert got["gc_max_storm_cpu_ms"] == pytest.approx(40.0)
    assert got["gc_max_storm_collected"] == 500
    assert got["gc_max_storm_cpu_any_ms"] == pytest.approx(50.0)
    assert got["gc_storm_count"] == [1, 2, 0]


def test_a_storm_without_collections_reports_none() -> None:
    got = pauses([])
    assert got["gc_storm_count"] == [0, 0, 0]
    assert got["gc_storm_cpu_s"] == 0.0
