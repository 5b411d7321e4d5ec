"""The storm bench's collection timer: wall time and the collecting thread's CPU time apart."""

from __future__ import annotations

import gc
import time

from bench.gc_probe import CollectionTimer


def test_a_collection_is_recorded_with_its_generation_and_counts() -> None:
    timer = CollectionTimer()
    gc.callbacks.append(timer)
    try:
        gc.collect(1)
    finally:
        gc.callbacks.remove(timer)
    (_, generation, seconds, collected, uncollectable, cpu) = timer.records[-1]
    assert generation == 1
    assert collected >= 0
    assert uncollectable >= 0
    assert cpu >= 0.0
    assert seconds >= 0.0


def test_time_off_the_cpu_counts_as_wall_time_but_not_as_cpu_time() -> None:
    # As a collection the kernel descheduled midway: the thread sleeps between start and stop.
    timer = CollectionTimer()
    timer("start", {"generation": 0})
    time.sleep(0.05)
    timer("stop", {"generation": 0, "collected": 3, "uncollectable": 0})
    (_, _, seconds, collected, _, cpu) = timer.records[0]
    assert seconds >= 0.05
    assert cpu < seconds / 2
    assert collected == 3
