"""Waiting for a job to end: on its pushed events, or by polling when no WebSocket opens; through
an api outage, for as long as the wait's own timeout allows."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from jobcast.client import errors
from jobcast.client.stream import StreamOptions
from jobcast.schemas import JobProgress, JobResult

if TYPE_CHECKING:
    from jobcast.client.aio import AsyncClient

#: Called with the job's progress each time it moves.
ProgressCallback = Callable[[JobProgress], None]
#: Called with False once the api stops answering a wait (it keeps trying), True once it
#: answers again.
ReachableCallback = Callable[[bool], None]
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
#: Failed connection attempts before `wait` polls instead.
PUSH_ATTEMPTS = 3
#: Seconds between two polls while the api answers.
POLL_INTERVAL = 0.5
#: The longest pause between two tries while the api does not answer: a restarted api is
#: noticed within this, and a long outage costs a request every few seconds only.
MAX_POLL_PAUSE = 5.0

T = TypeVar("T")


def poll_pause(failures: int) -> float:
    """Seconds before the next try after `failures` failed ones in a row: the interval while the
    api answers, then doubling up to MAX_POLL_PAUSE while it does not."""
    if failures <= 0:
        return POLL_INTERVAL
    return min(MAX_POLL_PAUSE, POLL_INTERVAL * 2.0**failures)


def throttled_pause(exc: errors.RateLimitedError) -> float:
    """Seconds before asking again after a 429: what it asked for (`details.retry_after`),
    within the poll interval and MAX_POLL_PAUSE."""
    details = exc.details if isinstance(exc.details, dict) else {}
    asked = details.get("retry_after")
    if not isinstance(asked, int | float):
        return POLL_INTERVAL
    return min(MAX_POLL_PAUSE, max(POLL_INTERVAL, float(asked)))


def heals(exc: errors.JobcastError) -> bool:
    """Whether asking again can get another answer: an api away, restarting or failing can; a
    refusal (a key, a job not there or not yours, one expired) or a wrong address cannot. (A
    429 is an answer, busy: `_answered` waits it out before this is asked.)"""
    away = (errors.UnavailableError, errors.ServerError)
    return isinstance(exc, away) and exc.code != "not_tls"


class Reach:
    """Whether the api answers the wait, told to `on_reachable` on each change only."""

    def __init__(self, on_reachable: ReachableCallback | None) -> None:
        self.on_reachable = on_reachable
        #: The error of the last try, while the api does not answer.
        self.lost_by: errors.JobcastError | None = None
        #: Outages met so far (a poll seeing one end tries the WebSocket again).
        self.outages = 0

    def lost(self, exc: errors.JobcastError) -> None:
        if self.lost_by is None:
            self.outages += 1
            if self.on_reachable is not None:
                self.on_reachable(False)
        self.lost_by = exc

    def back(self) -> None:
        if self.lost_by is not None:
            self.lost_by = None
            if self.on_reachable is not None:
                self.on_reachable(True)


async def wait_for_job(
    client: AsyncClient,
    job_id: str,
    within: float | None,
    on_progress: ProgressCallback | None,
    on_reachable: ReachableCallback | None = None,
) -> JobResult:
    """The job's result once it succeeded; raise if it failed, was cancelled, or took too long."""
    reach = Reach(on_reachable)
    # The deadline is kept by `asyncio.wait`, not by cancelling the waiting code: on Python
    # 3.11 a cancellation that races a finishing `wait_for` inside websockets can be lost, and
    # the wait then ran on past its timeout (seen in CI).
    waiting = asyncio.ensure_future(_to_result(client, job_id, on_progress, reach))
    try:
        done, _ = await asyncio.wait({waiting}, timeout=within)
    finally:
        if not waiting.done():
            waiting.cancel()
            with contextlib.suppress(BaseException):
                await waiting
    if not done:
        raise errors.WaitTimeoutError("wait_timeout", _timed_out(job_id, within, reach))
    return waiting.result()


def _timed_out(job_id: str, within: float | None, reach: Reach) -> str:
    message = f"Job {job_id} did not finish within {within} s; it goes on."
    if reach.lost_by is not None:
        message += f" The api could not be reached meanwhile: {reach.lost_by.message}"
    return message


async def _to_result(
    client: AsyncClient, job_id: str, on_progress: ProgressCallback | None, reach: Reach
) -> JobResult:
    raise_outcome(job_id, *await _until_end(client, job_id, on_progress, reach))
    return await _answered(lambda: client.result(job_id, retries=0), reach)


async def _answered(ask: Callable[[], Awaitable[T]], reach: Reach) -> T:
    """`ask()`'s answer, asked again (backing off) while the api is away: only a refusal that
    cannot heal ends it; the wait's timeout, if it has one, is kept by its caller.

    `ask` tries once (`retries=0`): this loop is the only backoff, so the first try that finds
    no api is told to `on_reachable`, not the last of a request's own retries seconds later."""
    failures = 0
    while True:
        try:
            answer = await ask()
        except errors.RateLimitedError as exc:
            # The api answered, asking for a pause: busy, not away.
            await asyncio.sleep(throttled_pause(exc))
            continue
        except errors.JobcastError as exc:
            if not heals(exc):
                raise
            reach.lost(exc)
            failures += 1
            await asyncio.sleep(poll_pause(failures))
            continue
        reach.back()
        return answer


async def _until_end(
    client: AsyncClient, job_id: str, on_progress: ProgressCallback | None, reach: Reach
) -> tuple[str, dict[str, Any] | None]:
    while True:
        try:
            return await _pushed(client, job_id, on_progress)
        except errors.NotFoundError:
            # The channel's refusal ("No channel 'job.j_…' for you", no status): a job that is
            # not there, or not yours, is said as `job()` says it, the REST 404 with its id.
            await client.job(job_id)
            raise
        except (errors.UnavailableError, errors.StreamError):
            # No socket to be had (unreachable, or the principal's connection limit): the job's
            # record says the same, only later.
            pass
        ended = await _polled(client, job_id, on_progress, reach)
        if ended is not None:
            return ended


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
    client: AsyncClient, job_id: str, on_progress: ProgressCallback | None, reach: Reach
) -> tuple[str, dict[str, Any] | None] | None:
    """How the job ended, by polling; None once the api answers again after an outage (its
    WebSocket may open again, and events are sooner than polls)."""
    outages = reach.outages
    while True:
        job = await _answered(lambda: client.job(job_id, retries=0), reach)
        if job.progress is not None and on_progress is not None:
            on_progress(job.progress)
        if job.status in TERMINAL:
            error = job.error.model_dump() if job.error is not None else None
            return job.status, error
        if reach.outages != outages:
            return None
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
