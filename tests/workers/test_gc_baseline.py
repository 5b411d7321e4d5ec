"""Workers freeze their start-up objects; a job's own garbage is still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pytest

from workers import gc_baseline
from workers.files.memory import RELEASE_ABOVE, JobMemory, freeze_baseline


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()
    gc_baseline._files_worker = False


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only a collection frees it


def worker(*queues: str) -> SimpleNamespace:
    consume_from = {queue: object() for queue in queues}
    return SimpleNamespace(app=SimpleNamespace(amqp=SimpleNamespace(queues=SimpleNamespace(
        consume_from=consume_from))))  # fmt: skip


def test_a_jobs_cycles_are_freed_after_the_baseline_is_frozen() -> None:
    freeze_baseline()
    node = Node()
    gone = weakref.ref(node)
    del node
    with JobMemory():
        block = np.ones(2 * RELEASE_ABOVE // 8)  # touched: a job large enough to hand back
        del block
    assert gone() is None


def test_the_baseline_is_left_out_of_collections() -> None:
    freeze_baseline()
    assert gc.get_freeze_count() > 10_000  # the imports of a worker (pandas among them)
    assert not gc.get_objects(2) or len(gc.get_objects()) < gc.get_freeze_count() // 10


def test_a_files_worker_and_its_pool_processes_freeze() -> None:
    gc_baseline._on_worker_init(worker("files", "orders"))
    frozen = gc.get_freeze_count()
    assert frozen > 0
    made_after_the_fork = [Node() for _ in range(100)]
    gc_baseline._on_process_init()
    assert gc.get_freeze_count() >= frozen + len(made_after_the_fork)


def test_an_orders_worker_and_its_pool_processes_freeze_too() -> None:
    gc_baseline._on_worker_init(worker("orders"))
    assert not gc_baseline._files_worker  # no pandas to import first
    frozen = gc.get_freeze_count()
    assert frozen > 0
    made_after_the_fork = [Node() for _ in range(100)]
    gc_baseline._on_process_init()
    assert gc.get_freeze_count() >= frozen + len(made_after_the_fork)
