"""Workers freeze their start-up objects, so the garbage collections of their work stay cheap.

The main process freezes once its imports are done, before the pool forks: the pool processes
inherit the freeze (and share those pages, which no collection touches). Each pool process
freezes again at its start, for what the main process made in between. A `files` worker first
imports pandas (`workers.files.memory.freeze_baseline` says why); an `orders` worker freezes
what it holds: its full collections walked Celery's ~100,000 start-up objects, 80 ms each, in
the middle of a matching step.
"""

from __future__ import annotations

import gc
from typing import Any

from celery import signals

from celeryconfig import FILES_QUEUE

#: Set in the main process of a `files` worker; its forked pool processes inherit it.
_files_worker = False


def _freeze() -> None:
    if _files_worker:
        # Imported here: it imports pyarrow, which an `orders` worker never needs.
        from workers.files.memory import freeze_baseline

        freeze_baseline()
    else:
        gc.collect()
        gc.freeze()


def _on_worker_init(sender: Any, **_: Any) -> None:
    global _files_worker
    _files_worker = FILES_QUEUE in sender.app.amqp.queues.consume_from
    _freeze()


def _on_process_init(**_: Any) -> None:
    _freeze()


def connect_signals() -> None:
    signals.worker_init.connect(_on_worker_init, weak=False)
    signals.worker_process_init.connect(_on_process_init, weak=False)
