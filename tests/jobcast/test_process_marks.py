"""A process's mark names one process of one host; a mark is judged left by a live process only
on the host that wrote it (`jobcast.process_marks`)."""

from __future__ import annotations

import os
import subprocess
import sys

from jobcast.process_marks import (
    left_by_a_live_process,
    own_start,
    process_mark,
    process_started_at,
)


def test_a_mark_left_by_a_process_that_still_runs_is_no_death() -> None:
    started = {7: 100.5}.get
    alive = process_mark("w1", 7, 100.5, "ab12")
    assert left_by_a_live_process(alive, "w1", started)
    # Its start read again after the clock was slewed or stepped (the kernel's boot time, whole
    # seconds from the wall clock, moved by one): the same process.
    assert left_by_a_live_process(process_mark("w1", 7, 99.5, "ab12"), "w1", started)
    assert left_by_a_live_process(process_mark("w1", 7, 101.5, "ab12"), "w1", started)
    # A pid reused since (another start time), gone, on another host, or unreadable: a death.
    assert not left_by_a_live_process(process_mark("w1", 7, 100.5 - 3600, "ab12"), "w1", started)
    assert not left_by_a_live_process(process_mark("w1", 7, 100.5 + 60, "ab12"), "w1", started)
    assert not left_by_a_live_process(process_mark("w1", 8, 100.5, "ab12"), "w1", started)
    assert not left_by_a_live_process(alive, "w2", started)
    assert not left_by_a_live_process("a process that died", "w1", started)
    assert not left_by_a_live_process("w1:seven:100.50:ab12", "w1", started)
    assert not left_by_a_live_process("w1:7:soon:ab12", "w1", started)


def test_a_process_is_known_by_its_start_until_it_is_gone() -> None:
    assert own_start(os.getpid()) == process_started_at(os.getpid()) > 0
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert process_started_at(gone.pid) is None
