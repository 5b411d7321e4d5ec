"""Waiting for a job to end: on its pushed events, or by polling when no WebSocket opens."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jobcast.client import errors
from jobcast.client.stream import StreamOptions
from jobcast.schemas import JobProgress

if TYPE_CHECKING:
    from jobcast.client.aio import AsyncClient

#: Called with the job's progress each time it moves.
ProgressCallback = Callable[[JobProgress], None]
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
#: Failed connection attempts before `wait` polls instead.
PUSH_ATTEMPTS = 3
#: Seconds between two polls once the WebSocket is given up.
POLL_INTERVAL = 0.5


async def wait_for_job(
    client: AsyncClient,
    job_id: str,
    within: float | None,
    on_progress: ProgressCallback | None,
) -> None:
    """Return once the job succeeded; raise if it failed, was cancelled, or took too long."""
    # The deadline is kept by `asyncio.wait`, not by cancelling the waiting code: on Python
    # 3.11 a cancellation that races a finishing `wait_for` inside websockets can be lost, and
    # the wait then ran on past its timeout (seen in CI).
    waiting = asyncio.ensure_future(_until_end(client, job_id, on_progress))
    try:
        done, _ = await asyncio.wait({waiting}, timeout=within)
    finally:
        if not waiting.done():
            waiting.cancel()
            with contextlib.suppress(BaseException):
                await waiting
    if not done:
        raise errors.WaitTimeoutError(
            "wait_timeout", f"Job {job_id} did not finish within {within} s; it goes on."
        )
    raise_outcome(job_id, *waiting.result())


async def _until_end(
    client: AsyncClient, job_id: str, on_progress: ProgressCallback | None
) -> tuple[str, dict[str, Any] | None]:
    try:
        return await _pushed(client, job_id, on_progress)
    except errors.NotFoundError:
        # The channel's refusal ("No channel 'job.j_…' for you", no status): a job that is not
        # there, or not yours, is said as `job()` says it, the REST 404 with its request id.
        await client.job(job_id)
        raise
    except (errors.UnavailableError, errors.StreamError):
        # No socket to be had (unreachable, or the principal's connection limit): the job's
        # record says the same, only later.
        return await _polled(client, job_id, on_progress)


async def _pushed(
    client: AsyncClient, job_id: str, on_progress: ProgressCallback | None
) -> tuple[str, dict[str, Any] | None]:
    options = StreamOptions(
        idle_timeout=client.stream_options.idle_timeout, max_failures=PUSH_ATTEMPTS
    )
    stream = client.events(f"job.{job_id}", options=options)
    last: JobProgress | None = None
    try:
        async for event in stream:
            snapshot = event.type == "snapshot"
            reported = _report(event.data.get("progress") if snapshot else event.data, on_progress)
            last = reported or last
            status = event.data.get("status")
            if status == "retrying" and last is not None and on_progress is not None:
                # Its event carries no progress: the failed attempt's estimate no longer holds
                # (the next one starts from the beginning), as the job's record says too.
                on_progress(last.model_copy(update={"eta_seconds": None}))
            if isinstance(status, str) and status in TERMINAL:
                return status, event.data.get("error")
    finally:
        await stream.aclose()
    raise errors.UnavailableError("stream_ended", "The event stream ended.")


async def _polled(
    client: AsyncClient, job_id: str, on_progress: ProgressCallback | None
) -> tuple[str, dict[str, Any] | None]:
    while True:
        job = await client.job(job_id)
        if job.progress is not None and on_progress is not None:
            on_progress(job.progress)
        if job.status in TERMINAL:
            error = job.error.model_dump() if job.error is not None else None
            return job.status, error
        await asyncio.sleep(POLL_INTERVAL)


def _report(data: Any, on_progress: ProgressCallback | None) -> JobProgress | None:
    """Hand `data` to `on_progress` if it is a progress; the progress last handed on."""
    if on_progress is None or not isinstance(data, dict) or "percent" not in data:
        return None
    progress = JobProgress.model_validate(data)
    on_progress(progress)
    return progress


def raise_outcome(
    job_id: str,
    status: str,
    error: dict[str, Any] | None,
    answer: errors.JobcastError | None = None,
) -> None:
    """JobFailedError (with the job's own error code) or JobCancelledError for a job that ended
    so; nothing for one that succeeded. `answer` is the server's 409 that said so, if one did:
    its status and request id go with the error."""
    http_status, request_id = (answer.status, answer.request_id) if answer else (None, None)
    if status == "failed":
        error = error or {}
        raise errors.JobFailedError(
            str(error.get("code", "job_failed")),
            str(error.get("message", "The job failed.")),
            {"job_id": job_id},
            status=http_status,
            request_id=request_id,
        )
    if status == "cancelled":
        message = f"Job {job_id} was cancelled."
        raise errors.JobCancelledError(
            "job_cancelled", message, status=http_status, request_id=request_id
        )
