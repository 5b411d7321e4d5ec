"""What a stop, or a pool process ending itself, logs: a warning line, not errors with a
traceback.

`jobcast up` stops a worker by sending SIGTERM to its process group, so a pool process running
a task dies alongside the main process's warm shutdown. (A terminal's Ctrl-C, SIGINT to the
group, does not: pool processes ignore SIGINT, and the warm shutdown waits for their tasks.)
Celery then logs, at ERROR and with a 30-line traceback, that the process exited and that the
task's handler raised `WorkerLostError`. Nothing is lost: the message is handed back to the
broker (`task_reject_on_worker_lost`) and the job runs again on the next free worker. Once this
worker is stopping, the task's loss is one WARNING line saying so, and the process's exit, which
adds nothing to it (nor loses anything when the process was idle), is kept at DEBUG only. The
same records outside a stop (a process killed by the kernel, a crash) stay errors with their
traceback.

When Redis itself is gone (the embedded one killed, which also stops the stack), the hand-back
fails: kombu logs it at CRITICAL with a ~130-line chained traceback. The message is still held
as unacked in Redis if Redis kept it, or lost with it if not; either way the reconciler sends
the job's task again once Redis and a worker are back (`workers.reconcile`). That record is one
WARNING line saying so, in a stop or not (kombu logs only connection errors there), and so is
its twin for a finished task's acknowledgement.

A pool process also ends itself on purpose (SIGKILL, `recycle_process`): a file job over its
memory budget, or a parse left running after its job ended. It leaves a note first; the main
process, seeing that process exit, logs the loss as that planned end, at WARNING. Over a job's
memory it also leaves a breach note: the failure the main process commits for it, before the
task is handed back (`workers.files.breaches`), kept for the job's next run when it could not be.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from celery import signals

from jobcast.redis_clients import redis_problem

log = logging.getLogger("jobcast.tasks")
_stopping = threading.Event()
#: Loggers of the two records: billiard's pool (as multiprocessing's) and Celery's request.
LOGGERS = ("multiprocessing", "celery.worker.request")
#: A stopping worker hands its task back: another worker may take it at once (in a cluster), or
#: the next start does (`jobcast up` stops every worker).
SAID = "the worker is stopping: its task goes back to the broker and runs on the next free worker"
#: kombu's records of a message it could not settle (`Message.reject_log_error`, `ack_log_error`).
_UNSETTLED = re.compile(r"Couldn't (reject|ack) ")
UNSETTLED = {
    "reject": (
        "a task's message could not be handed back to the broker ({problem}); the reconciler "
        "sends its work again once Redis and a worker are back and the work has sat idle past "
        "its bound (README: the reconciler)"
    ),
    "ack": (
        "a finished task's message could not be acknowledged ({problem}); if the broker "
        "delivers it again, the task finds its outcome committed and does nothing"
    ),
}
#: How long after a planned end the task's WorkerLostError is taken as that end's.
PLANNED_SECONDS = 10.0
_EXITED = re.compile(r"pid:? ?(\d+) exited with .signal 9")


class InterruptedByStop(logging.Filter):
    """Turns a lost pool process's error records into warnings while the worker stops, or
    when the process ended itself on purpose (a note says why)."""

    def __init__(self, stopping: threading.Event) -> None:
        super().__init__()
        self.stopping = stopping
        self.planned: tuple[float, str] | None = None  # (when, why) of the last planned end

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            return True
        unsettled = _UNSETTLED.match(str(record.msg))
        if unsettled is not None:
            _quiet(record, UNSETTLED[unsettled.group(1)].format(problem=_problem_of(record)))
            return True
        if not _a_loss(record):
            return True
        text = record.getMessage()
        reason = self._planned_end(text)
        if reason is not None:
            _quiet(
                record, f"{text.splitlines()[0]} (planned: {reason}; a fresh process replaces it)"
            )
        elif self.stopping.is_set():
            if "WorkerLostError" not in text:
                log.debug("%s (the worker is stopping)", text)
                return False
            _quiet(record, f"{text.splitlines()[0]} ({SAID})")
        return True

    def _planned_end(self, text: str) -> str | None:
        exited = _EXITED.search(text)
        if exited is not None:
            reason = take_recycle_note(int(exited.group(1)))
            if reason is not None:
                self.planned = (time.monotonic(), reason)
            return reason
        if "WorkerLostError" not in text or "signal 9" not in text:
            return None
        if self.planned is not None and time.monotonic() - self.planned[0] <= PLANNED_SECONDS:
            return self.planned[1]
        return fresh_recycle_note()  # the task's loss said before its process's exit


def _quiet(record: logging.LogRecord, text: str) -> None:
    record.msg, record.args = "%s", (text,)
    record.levelno, record.levelname = logging.WARNING, "WARNING"
    record.exc_info = record.exc_text = None


def _problem_of(record: logging.LogRecord) -> str:
    """The connection error a "Couldn't reject" record carries, in one line."""
    exc = record.exc_info[1] if record.exc_info else None
    if exc is None and isinstance(record.args, tuple) and record.args:
        exc = record.args[-1] if isinstance(record.args[-1], BaseException) else None
    return redis_problem(exc) if exc is not None else "connection lost"


def _a_loss(record: logging.LogRecord) -> bool:
    text = record.getMessage()
    return "WorkerLostError" in text or (text.startswith("Process ") and "exited with" in text)


def _note_path(pid: int, kind: str = "recycled") -> Path:
    return Path(tempfile.gettempdir()) / f"jobcast-{kind}-{os.getuid()}-{pid}"


def leave_recycle_note(pid: int, reason: str) -> None:
    """Say why pool process `pid` is about to kill itself (read by its main process)."""
    with contextlib.suppress(OSError):  # then the loss is logged as an error, as any other
        _note_path(pid).write_text(reason)


def fresh_recycle_note() -> str | None:
    """The reason of a note left in the last PLANNED_SECONDS, if any (left for its exit)."""
    now = time.time()
    for path in Path(tempfile.gettempdir()).glob(f"jobcast-recycled-{os.getuid()}-*"):
        try:
            if now - path.stat().st_mtime <= PLANNED_SECONDS:
                return path.read_text()
        except OSError:
            continue
    return None


def take_recycle_note(pid: int) -> str | None:
    path = _note_path(pid)
    try:
        reason = path.read_text()
    except OSError:
        return None
    path.unlink(missing_ok=True)
    return reason


def _on_shutting_down(**_: Any) -> None:
    _stopping.set()


def connect_signals() -> None:
    signals.worker_shutting_down.connect(_on_shutting_down, weak=False)
    quiet = InterruptedByStop(_stopping)
    for name in LOGGERS:
        logging.getLogger(name).addFilter(quiet)


def leave_breach_note(pid: int, note: dict[str, Any]) -> None:
    """What pool process `pid`, about to kill itself over a job's memory, leaves for its main
    process to commit (`workers.files.breaches`): beside the recycle note, which only says why
    and is taken by the log filter."""
    with contextlib.suppress(OSError):  # then the job's next run ends it
        _note_path(pid, "breach").write_text(json.dumps(note))


def read_breach_note(pid: int) -> dict[str, Any] | None:
    """The breach note of pool process `pid`, if it left one in the last PLANNED_SECONDS (an
    older one is another process's of that pid, kept when its commit failed)."""
    path = _note_path(pid, "breach")
    try:
        if time.time() - path.stat().st_mtime > PLANNED_SECONDS:
            return None
        note: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return note


def drop_breach_note(pid: int) -> None:
    with contextlib.suppress(OSError):
        _note_path(pid, "breach").unlink(missing_ok=True)


def breach_started_at(pid: int) -> float | None:
    """When pool process `pid` started, if it ended itself over a job's memory and its failure
    is still to commit (its note kept): its delivery's running mark is then no death."""
    try:
        return float(json.loads(_note_path(pid, "breach").read_text())["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
