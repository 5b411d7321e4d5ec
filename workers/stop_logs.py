"""What a stop logs about the task it interrupts: a warning line, not errors with a traceback.

`jobcast up` (and a terminal's Ctrl-C) stops a worker by signalling its process group, so a
pool process running a task dies alongside the main process's warm shutdown. Celery then logs,
at ERROR and with a 30-line traceback, that the process exited and that the task's handler
raised `WorkerLostError`. Nothing is lost: the message is requeued (`task_reject_on_worker_lost`)
and the job runs again at the next start. Once this worker is stopping, those records are each
one WARNING line saying so; the same records outside a stop (a process killed by the kernel, a
crash) stay errors with their traceback.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import signals

_stopping = threading.Event()
#: Loggers of the two records: billiard's pool (as multiprocessing's) and Celery's request.
LOGGERS = ("multiprocessing", "celery.worker.request")
SAID = "the worker is stopping: the task is requeued and runs again at its next start"


class InterruptedByStop(logging.Filter):
    """Turns a lost pool process's error records into warnings while the worker stops."""

    def __init__(self, stopping: threading.Event) -> None:
        super().__init__()
        self.stopping = stopping

    def filter(self, record: logging.LogRecord) -> bool:
        if self.stopping.is_set() and record.levelno >= logging.ERROR and _a_loss(record):
            text = record.getMessage().splitlines()[0]
            record.msg, record.args = "%s (%s)", (text, SAID)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True


def _a_loss(record: logging.LogRecord) -> bool:
    text = record.getMessage()
    return "WorkerLostError" in text or (text.startswith("Process ") and "exited with" in text)


def _on_shutting_down(**_: Any) -> None:
    _stopping.set()


def connect_signals() -> None:
    signals.worker_shutting_down.connect(_on_shutting_down, weak=False)
    quiet = InterruptedByStop(_stopping)
    for name in LOGGERS:
        logging.getLogger(name).addFilter(quiet)
