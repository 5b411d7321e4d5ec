"""A file job's queue priority sinks with its owner's backlog, and a queue's depth counts every
priority's list."""

from __future__ import annotations

import pytest

from jobcast.files_priority import priority
from jobcast.queue_depths import depths
from jobcast.rediskeys import queue_lists


@pytest.mark.parametrize(
    ("active", "expected"),
    [(0, 0), (1, 0), (2, 3), (7, 3), (8, 6), (31, 6), (32, 9), (10_000, 9)],
)
def test_the_first_jobs_up_to_the_cap_go_first_and_a_backlog_sinks(
    active: int, expected: int
) -> None:
    assert priority(active, cap=2) == expected


def test_with_the_cap_off_every_job_goes_at_the_top() -> None:
    assert priority(500, cap=0) == 0


def test_a_queue_depth_adds_up_its_priority_lists() -> None:
    assert queue_lists("files") == ("files", "files\x06\x163", "files\x06\x166", "files\x06\x169")
    assert depths(["files", "orders"], [1, 2, 3, 4, 5, 0, 0, 0]) == {"files": 10, "orders": 5}
