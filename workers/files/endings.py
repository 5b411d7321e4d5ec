"""How a file job ends: failed (or cancelled, if a cancel landed meanwhile), its upload let go
with the outcome, and the end a memory breach forces before its process is killed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from jobcast.jobs.records import CANCELLED, CANCELLING, FAILED
from jobcast.rediskeys import task_running_key
from jobcast.settings import Settings
from workers.attempts import ending_writes
from workers.context import worker_context
from workers.files import fairness
from workers.files.errors import over_budget
from workers.files.state import JobState, is_terminal
from workers.files.uploads import delete_upload_file, remove_upload, unlink_upload

log = logging.getLogger("jobcast.files")


def on_memory_breach(
    state: JobState, settings: Settings, record: dict[str, Any]
) -> Callable[[int], None]:
    def breach(rss: int) -> None:
        budget = settings.job_memory_budget >> 20
        operation = (record.get("params") or {}).get("operation")
        error = {"code": "memory_limit", "message": over_budget(budget, operation)}
        outcome, status = fail(state, error)
        if outcome.committed:  # its quota went with the outcome; its file goes before the kill
            # At once, not after a replica has the outcome: the process is past its budget.
            delete_upload_file(settings, record)
        # Our own kill, not a death the attempt cap should count: the redelivery finds no mark;
        # and the process dies before `_run_once` would give back the owner's slot. One round
        # trip: the job's thread is still growing until the kill.
        pipe = worker_context().redis.pipeline(transaction=False)
        pipe.delete(task_running_key(state.job_id))
        fairness.release(pipe, state.owner, state.job_id)
        pipe.execute()
        if outcome.committed and status == FAILED:
            detail = f"resident {rss >> 20} MiB of a {budget} MiB budget"
            log_failed(state.job_id, error, logging.WARNING, detail)

    return breach


def log_failed(job_id: str, error: dict[str, str], level: int, detail: str = "") -> None:
    """The one log line of a failed file job, written where it failed: INFO when its input is at
    fault (the owner's to fix), WARNING at an operator's limit or the system's fault. `detail`:
    what only the log keeps (pyarrow's own words, the resident size)."""
    code, message = error["code"], error["message"]
    log.log(
        level,
        "file job %s failed: %s: %s%s",
        job_id,
        code,
        message,
        f" ({detail})" if detail else "",
        extra={"job_id": job_id, "code": code, "error_message": message},
    )


def fail(state: JobState, error: dict[str, str]) -> tuple[Any, str]:
    """End the job failed, or cancelled if a cancel landed meanwhile: (the commit, the status)."""
    finished = state.finish(FAILED, error=error)
    if not finished.committed and finished.current == CANCELLING:
        return state.cancelled(), CANCELLED
    return finished, FAILED


def end(
    state: JobState, settings: Settings, record: dict[str, Any], outcome: Any, status: str
) -> str:
    current = status if outcome.committed else str(outcome.current)
    if outcome.committed:
        unlink_upload(settings, record)  # its quota went with the outcome
    elif is_terminal(current):
        remove_upload(ending_writes(state.client), settings, record)
    # Else another delivery of the task owns the job (a retry it committed, or a redelivery
    # running it: Celery requeues a running task when the broker connection drops) and will
    # read the upload.
    return current
