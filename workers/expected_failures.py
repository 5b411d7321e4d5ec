"""An expected failure (a task's `throws`: `TaskFailedError`) told as what it is, not as a crash.

A Jobcast task whose work failed (a file the owner must fix, a poison task) commits the outcome,
logs it once in its own words, and then raises `TaskFailedError` so Celery records `FAILURE`.
Celery, on its own, logged that raise again ("raised expected: TaskFailedError(...)"), and its
`task-failed` event carried the traceback of our `raise` and no runtime, so Flower showed an
input error as a crash of ours. Here the event keeps the error's code and message (the
exception), drops the traceback, and carries the runtime; Celery's repeat goes to DEBUG.

A task whose job was cancelled ends with `TaskCancelledError` (an `Ignore`, which Celery only
acks, sending no event: Flower showed the task STARTED for good). The worker announces it
revoked instead, with Celery's own announcement of a revoked task.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from billiard.einfo import ExceptionWithTraceback
from celery.worker.request import Request

from jobcast.task_failure import TaskCancelledError

#: The logger of Celery's own line for a task's outcome, written in the pool process.
TRACE_LOGGER = "celery.app.trace"
#: How Celery describes a failure of a task's `throws` in that line.
EXPECTED = "raised expected"
#: How it describes a task that raised `Ignore`: a cancelled job's, which is revoked.
IGNORED = "ignored"
#: The line said instead for a cancelled job's task.
CANCELLED_LINE = "Task %(name)s[%(id)s] revoked: its job was cancelled"

log = logging.getLogger("jobcast.tasks")


class ExpectedFailureRequest(Request):  # type: ignore[misc]
    """A task's request in the worker's main process: its `task-failed` event, for a failure
    the task `throws`, carries no traceback and has the runtime a success's event would; a task
    that ended with `TaskCancelledError` is announced revoked."""

    _expected_failure = False

    def on_failure(
        self, exc_info: Any, send_failed_event: bool = True, return_ok: bool = False
    ) -> Any:
        exc = exc_info.exception
        if isinstance(exc, ExceptionWithTraceback):
            exc = exc.exc
        if isinstance(exc, TaskCancelledError):
            # As Celery announces a task revoked from outside: the event, the REVOKED result
            # (where Celery's own stores it: from this process) and the ack.
            self._announce_revoked("cancelled", False, None, False)
            return None
        self._expected_failure = bool(self.task.throws) and isinstance(exc, self.task.throws)
        return super().on_failure(exc_info, send_failed_event, return_ok)

    def send_event(self, type: str, **fields: Any) -> Any:
        if type == "task-failed" and self._expected_failure:
            # Accepted by a pool process (time_start) to now: a success's runtime plus the
            # return of its outcome, a millisecond.
            runtime = time.time() - self.time_start if self.time_start else None
            fields = {**fields, "traceback": None, "runtime": runtime}
        return super().send_event(type, **fields)


class ExpectedFailureToldOnce(logging.Filter):
    """Keeps Celery's line for an expected failure at DEBUG: the task told it already. Its line
    for a cancelled job's task says so, not "ignored" (the `Ignore` it raises is how)."""

    def filter(self, record: logging.LogRecord) -> bool:
        data = getattr(record, "data", None)
        if not isinstance(data, dict):
            return True
        cancelled = TaskCancelledError.__name__ in str(data.get("exc", ""))
        if data.get("description") == IGNORED and cancelled:
            record.msg = CANCELLED_LINE
            return True
        if data.get("description") != EXPECTED:
            return True
        log.debug("%s", record.getMessage())
        return False


def connect_signals() -> None:
    logging.getLogger(TRACE_LOGGER).addFilter(ExpectedFailureToldOnce())
