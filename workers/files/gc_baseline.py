"""`files` workers freeze their start-up objects, so a job's garbage collections stay cheap.

The main process freezes once its imports are done, before the pool forks: the pool processes
inherit the freeze (and share those pages, which no collection touches). Each pool process
freezes again at its start, for what the main process made in between
(`workers.files.memory.freeze_baseline` says why). Workers that do not consume `files` run no
file job and are left as they are.
"""

from __future__ import annotations

from typing import Any

from celery import signals

from celeryconfig import FILES_QUEUE
from workers.files.memory import freeze_baseline

#: Set in the main process of a `files` worker; its forked pool processes inherit it.
_files_worker = False


def _on_worker_init(sender: Any, **_: Any) -> None:
    global _files_worker
    if FILES_QUEUE in sender.app.amqp.queues.consume_from:
        _files_worker = True
        freeze_baseline()


def _on_process_init(**_: Any) -> None:
    if _files_worker:
        freeze_baseline()


def connect_signals() -> None:
    signals.worker_init.connect(_on_worker_init, weak=False)
    signals.worker_process_init.connect(_on_process_init, weak=False)
