"""The worker's pool replaces a process killed from outside at once, not on its 5-second timer."""

from __future__ import annotations

import signal
import time

import psutil

from tests.conftest import StartWorker
from tests.support.processes import Proc, wait_for


def pool_processes(worker: Proc) -> set[int]:
    """Pids of the worker's live pool processes."""
    children = psutil.Process(worker.popen.pid).children()
    return {c.pid for c in children if c.status() != psutil.STATUS_ZOMBIE}


def test_pool_process_killed_from_outside_is_replaced_at_once(start_worker: StartWorker) -> None:
    # Its sentinel pipe closes a moment before the kernel lets it be reaped: most kills used to
    # be noticed only by the pool's 5-second maintenance timer
    worker = start_worker(queues="orders")
    began = time.monotonic()

    for _ in range(3):
        (pool,) = pool_processes(worker)
        psutil.Process(pool).send_signal(signal.SIGKILL)
        wait_for(lambda p=pool: pool_processes(worker) - {p} != set(), 30, "a new pool process")  # type: ignore[misc]

    assert time.monotonic() - began < 4.0  # before: 5 s or more (two kills of three missed)
