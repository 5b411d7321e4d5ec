"""Test-only tasks, loaded into real workers with `celery worker --include`."""

from __future__ import annotations

import os
import signal
import time

from workers.app import app
from workers.context import worker_context


@app.task(name="jobcast.test.touch")
def touch(key: str) -> str:
    """A visible side effect: sets `key` in Redis."""
    worker_context().redis.set(key, "touched")
    return key


@app.task(name="jobcast.test.crash_own_process")
def crash_own_process(counter_key: str) -> None:
    """Counts its runs, then kills the pool process running it, every time."""
    worker_context().redis.incr(counter_key)
    os.kill(os.getpid(), signal.SIGKILL)


@app.task(name="jobcast.test.nap")
def nap(key: str, seconds: float) -> float:
    """Sets `key` to "napping", holds its message (acked late) for `seconds`, sets "done"."""
    worker_context().redis.set(key, "napping")
    time.sleep(seconds)
    worker_context().redis.set(key, "done")
    return seconds


@app.task(name="jobcast.test.hold_memory")
def hold_memory(key: str, megabytes: int, seconds: float) -> None:
    """Holds `megabytes` of written memory in its pool process for `seconds` (as a large job's
    data frame does), having set `key` to "holding"."""
    held = b"x" * (megabytes * 1024 * 1024)  # written, so resident: not lazily mapped zeros
    worker_context().redis.set(key, "holding")
    time.sleep(seconds)
    del held
