"""How a file job ends: failed (or cancelled, if a cancel landed meanwhile), its upload let go
with the outcome and a converted file with any end but success (a memory breach's end is
committed from it too: `workers.files.breaches`)."""

from __future__ import annotations

import logging
from typing import Any

from jobcast.jobs.records import CANCELLED, CANCELLING, FAILED
from jobcast.settings import Settings
from workers.attempts import ending_writes
from workers.files.state import JobState, is_terminal
from workers.files.uploads import drop_artifact, remove_upload, unlink_upload

log = logging.getLogger("jobcast.files")


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
    drop_artifact(state.client, settings, record, current)  # nothing will ever serve it
    if outcome.committed:
        unlink_upload(settings, record)  # its quota went with the outcome
    elif is_terminal(current):
        remove_upload(ending_writes(state.client), settings, record)
    # Else another delivery of the task owns the job (a retry it committed, or a redelivery
    # running it: Celery requeues a running task when the broker connection drops) and will
    # read the upload.
    return current
