"""A process's mark: its host, pid and start time, which name one process of the cluster (a pid
reused since names another), and a token of its holder's own.

A delivery marks itself running with one (`workers.attempts`), a worker holds its node name
with one (`workers.name_claim`): one rule judges whether the process a mark names still runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import psutil

#: How far apart two readings of one process's start time may be. It is read as the kernel's
#: boot time (whole seconds, worked out from the wall clock) plus the process's ticks since
#: boot, so a clock slewed or stepped by NTP moves it: seen a whole second apart an hour after
#: a VM booted, which judged a live worker's name claim dead. A pid reused by another process
#: started within this of the first would need the pid space to wrap in seconds.
SAME_START_WITHIN = 10.0


def process_mark(host: str, pid: int, started: float, token: str) -> str:
    """A process's mark: its host, pid and start time, and a token of its own."""
    return f"{host}:{pid}:{started:.2f}:{token}"


def left_by_a_live_process(mark: str, host: str, started_at: Callable[[int], float | None]) -> bool:
    """Whether `mark` is a process's on this `host` that still runs (`started_at` tells when the
    process of a pid started, None for none): a delivery's mark left so could not be cleared,
    Redis being away, and is no death. A mark of another host (or unreadable) cannot be judged:
    False (a delivery's counts as a death)."""
    parts = mark.rsplit(":", 3)
    pid = mark_pid(mark)
    if pid is None or parts[0] != host:
        return False
    started = started_at(pid)
    try:
        written = float(parts[2])
    except ValueError:
        return False
    return started is not None and abs(started - written) <= SAME_START_WITHIN


def mark_pid(mark: str) -> int | None:
    """The pid a process's mark names (None for a mark of another shape)."""
    parts = mark.rsplit(":", 3)
    return int(parts[1]) if len(parts) == 4 and parts[1].isdigit() else None


def process_started_at(pid: int) -> float | None:
    """When the process `pid` of this host started (None when there is none): with its pid, it
    names one process, as a pid reused since names another."""
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


@functools.lru_cache(maxsize=4)
def own_start(pid: int) -> float:
    """`process_started_at` of this process (the pid of the caller's own), read once: it cannot
    change while the process runs, and reading /proc costs ~60 us a delivery. Keyed by pid, so a
    forked pool process reads its own."""
    return process_started_at(pid) or 0.0
