"""The Celery task of a file job: thin, everything it decides is committed to the job's record.

`jobcast.files.run` moves the job queued -> running (only from a state a worker may start from,
so a cancelled job never runs), streams the file through `runner.run_job`, checks for cancel
between batches, publishes throttled progress, and commits the outcome with its terminal event
in one step that expects `running`: a redelivered task finds the outcome already committed and
does nothing twice.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from pathlib import Path
from typing import Any, NoReturn

import redis
from celery.exceptions import Ignore, Retry, SoftTimeLimitExceeded
from pydantic import ValidationError

from jobcast import files_waiting
from jobcast.jobs.params import SUBMITTED, JobParams
from jobcast.jobs.records import (
    CANCELLED,
    CANCELLING,
    FAILED,
    QUEUED,
    RETRYING,
    RUNNING,
    SUCCEEDED,
    EncodedJson,
)
from jobcast.redis_clients import redis_problem
from jobcast.rediskeys import job_key, task_running_key
from jobcast.settings import Settings
from jobcast.storage_paths import artifact_path, upload_path
from jobcast.task_failure import TaskCancelledError, TaskFailedError
from jobcast.task_names import FILE_JOB_TASK, shown_again
from workers.app import app
from workers.attempts import CappedTask, ending_writes, times
from workers.context import worker_context
from workers.files import fairness, outcomes
from workers.files.breaches import on_memory_breach
from workers.files.endings import end, fail, log_failed
from workers.files.errors import FileJobError, lasting_storage_error
from workers.files.memory import JobMemory
from workers.files.result_quota import commit_with_result
from workers.files.runner import JobLimits, JobStopped, run_job
from workers.files.sources import parse_left_running
from workers.files.state import (
    JobState,
    completed_progress,
    is_terminal,
    job_hooks,
    progress_fields,
)
from workers.files.uploads import (
    artifact_quota,
    charge_artifact,
    drop_artifact,
    remove_upload,
)
from workers.files.watchdog import MemoryWatchdog, recycle_process, watch_limit
from workers.retry_sends import SEND_PATIENCE_SECONDS, patiently, send_retry
from workers.soft_limit import SoftLimit

log = logging.getLogger("jobcast.files")


def limits_for(settings: Settings) -> JobLimits:
    return JobLimits(
        memory_budget=settings.job_memory_budget,
        batch_bytes=settings.job_batch_bytes,
        max_decompressed=settings.upload_max_decompressed_bytes,
        max_columns=settings.job_max_columns,
        max_groups=settings.job_max_groups,
        distinct_limit=settings.job_distinct_exact_limit,
        max_decompression_ratio=settings.upload_max_decompression_ratio,
        max_cell_bytes=settings.job_max_cell_bytes,
        max_json_depth=settings.job_max_json_depth,
        max_decoded=settings.job_max_decoded_bytes,
        max_decoded_ratio=settings.job_max_decoded_ratio,
    )


class FileJobTask(CappedTask):
    """Shows the attempt cap's verdicts on the job: quarantined (retrying), or failed."""

    #: Expected failures: Celery records FAILURE but logs no traceback (we log the error).
    throws = (TaskFailedError,)

    def read_along(self, args: tuple[Any, ...]) -> str | None:
        return job_key(args[0])  # the job's record: the task reads it first (`_run_once`)

    def on_quarantined(
        self, task_id: str, reason: str, delay: float, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        ctx = worker_context()
        loaded = JobState.load(ctx.redis, args[0], ctx.settings.job_retention)
        if loaded is not None:
            error = {"code": "quarantined", "message": f"{reason[:1].upper()}{reason[1:]}."}
            loaded[0].retrying(int(loaded[1].get("attempt") or 0), error, delay)

    def on_attempts_exhausted(
        self, task_id: str, deaths: int, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        ctx = worker_context()
        loaded = JobState.load(ctx.redis, args[0], ctx.settings.job_retention)
        if loaded is None:
            return
        state, record = loaded
        fairness.release(ctx.redis, state.owner, state.job_id)  # its dead runs' slot
        files_waiting.unmark_waiting(ctx.redis, state.owner, state.job_id)
        error = {
            "code": "attempts_exhausted",
            "message": f"The job's worker process died {times(deaths)} while running it, "
            "also after quarantine: the job itself kills it.",
        }
        finished = state.finish(FAILED, error=error, expect=(QUEUED, RUNNING, RETRYING, CANCELLING))
        end(state, ctx.settings, record, finished, FAILED)  # its files, as any other end
        if finished.committed:
            log_failed(state.job_id, error, logging.WARNING)


@app.task(name=FILE_JOB_TASK, bind=True, base=FileJobTask)  # type: ignore[untyped-decorator]
def run_file_job(self: FileJobTask, job_id: str) -> str:
    """Run the job `job_id`; returns the status it ended in (or found). A job that ended
    failed raises `TaskFailedError` with its error, one that ended cancelled raises
    `TaskCancelledError`, once the outcome is committed."""
    ctx = worker_context()
    status = _run_once(self, ctx.redis, ctx.settings, job_id)
    if parse_left_running():
        # The job ended (its outcome is committed) while a parse it could not interrupt ran on:
        # a fresh process instead; the redelivered message finds the job ended.
        log.warning("file job %s left a parse running; replacing the process", job_id)
        ending = ending_writes(ctx.redis)  # its releases, which the task's end would send
        ending.delete(task_running_key(job_id))  # not a death for the attempt cap to count
        if isinstance(ending, redis.client.Pipeline):
            ending.execute()
        recycle_process("a file job's parse ran on after the job ended")
    if status == FAILED:
        raise_failed(ctx.redis, job_id)
    if status == CANCELLED:
        # Celery's state for it is REVOKED (Flower shows it so), not a SUCCESS of "cancelled".
        raise TaskCancelledError(f"job {job_id} cancelled")
    return status


def raise_failed(client: redis.Redis, job_id: str) -> NoReturn:
    """End the task with the failed job's committed error (Celery: FAILURE). Logged where the
    job failed (`log_failed`, once per job), not here: an input failure was an INFO line and a
    WARNING here, and a redelivery finding the job failed logged it again."""
    raw = client.hget(job_key(job_id), "error")
    error = json.loads(raw) if raw else {}
    code, message = str(error.get("code", "unknown")), str(error.get("message", ""))
    raise TaskFailedError.from_error(code, message)


def _run_once(task: FileJobTask, client: redis.Redis, settings: Settings, job_id: str) -> str:
    read: dict[str, str] | None = getattr(task.request, "read_along", None)
    if read is None:  # run outside a worker (eagerly): nothing was read along
        loaded = JobState.load(client, job_id, settings.job_retention)
    else:
        loaded = JobState.of_record(client, job_id, settings.job_retention, read)
    if loaded is None:
        return "expired"  # its waiting entry ages out with it (pruned past the retention)
    state, record = loaded
    if is_terminal(record["status"]):
        # Ended by another delivery, the api's cancel, or this job's worker that died before
        # it let go of the job's files: whatever is left of them goes now.
        files_waiting.unmark_waiting(client, state.owner, job_id)
        drop_artifact(client, settings, record, record["status"])
        remove_upload(ending_writes(client), settings, record)
        return str(record["status"])
    try:
        attempt = int(record.get("attempt") or 0) + 1
        slot = fairness.SlotClaim.of(settings, state.owner, job_id)
        started = state.start(attempt, int(record.get("size") or 0), slot)
        if started is None:  # its owner's slots are full: nothing claimed, nothing started
            _defer(task, job_id)
        if not started.committed:
            if started.current == CANCELLING:  # cancelled before it ran: its upload goes now
                return end(state, settings, record, state.cancelled(), CANCELLED)
            return started.current or "unknown"
        return _run(task, state, record, settings, attempt)
    finally:
        # With the task's end (one round trip). A Redis outage then leaves the slot to its
        # deadline; the job's outcome stands.
        with contextlib.suppress(redis.RedisError):
            fairness.release(ending_writes(client), state.owner, job_id)


def _defer(task: FileJobTask, job_id: str) -> NoReturn:
    """Send the job's task again shortly and end this delivery: its owner's slots are full."""
    # Celery logs the RETRY at INFO already; this names the reason for whoever debugs it.
    log.debug("file job %s deferred: its owner already runs its most jobs at once", job_id)
    task.apply_async(
        args=task.request.args,
        kwargs=task.request.kwargs,
        task_id=task.request.id,
        countdown=fairness.DEFER_SECONDS,
        **shown_again(task.request),
    )
    # Celery records RETRY (Flower shows it) and acks this delivery; the resend runs later.
    raise Retry("deferred: its owner's file job slots are full", when=fairness.DEFER_SECONDS)


def _failed(
    state: JobState,
    settings: Settings,
    record: dict[str, Any],
    error: dict[str, str],
    level: int,
    detail: str = "",
) -> str:
    """End the job failed (or cancelled, if a cancel landed) and log it once if it failed."""
    outcome, status = fail(state, error)
    if outcome.committed and status == FAILED:
        log_failed(state.job_id, error, level, detail)
    return end(state, settings, record, outcome, status)


def _run(
    task: FileJobTask, state: JobState, record: dict[str, Any], settings: Settings, attempt: int
) -> str:
    try:
        params = JobParams.model_validate(record["params"] or {}, context=SUBMITTED)
    except ValidationError as exc:
        return _failed(state, settings, record, outcomes.invalid_params(exc), logging.INFO)
    try:
        result = _measured_run(state, record, settings, params)
        stored = outcomes.stored_result(result, settings.job_max_result_bytes)
    except JobStopped as stop:
        progress = progress_fields(stop.progress)
        return end(state, settings, record, state.cancelled(progress), CANCELLED)
    except FileJobError as exc:
        detail = outcomes.reader_detail(exc)
        return _failed(state, settings, record, exc.as_error(), logging.INFO, detail)
    except SoftTimeLimitExceeded:
        error = outcomes.time_limit(settings.job_soft_time_limit)
        # An operator's limit, as memory_limit is: a warning (input at fault is only info).
        return _failed(state, settings, record, error, logging.WARNING)
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        lasting = lasting_storage_error(exc)
        if lasting is not None:
            return _failed(state, settings, record, lasting, logging.WARNING)
        return _retry(task, state, record, attempt, exc, settings)
    except Exception as exc:
        # A bug or an input nothing above foresaw: fail the job rather than leave it running.
        log.exception("file job %s failed unexpectedly", state.job_id)
        return end(state, settings, record, *fail(state, outcomes.internal_error(exc)))
    return _succeed(state, settings, record, params, result["rows"], stored)


def _measured_run(
    state: JobState, record: dict[str, Any], settings: Settings, params: JobParams
) -> dict[str, Any]:
    """The job's result, with what it cost; raises as `run_job` does, or SoftTimeLimitExceeded."""
    began, cpu_began = time.monotonic(), time.process_time()
    with (
        SoftLimit() as soft_limit,
        JobMemory() as memory,
        MemoryWatchdog(
            watch_limit(settings.job_memory_budget), on_memory_breach(state, settings, record)
        ),
    ):
        hooks = job_hooks(state, settings.job_progress_interval, soft_limit)
        with artifact_quota(state.client, settings, params, state.owner, state.job_id, hooks):
            result = run_job(
                upload_path(settings, record["stored"]),
                params,
                limits_for(settings),
                hooks,
                _artifact(settings, state, params),
            )
        soft_limit.check()  # signalled while the result was made: past the limit all the same
    seconds, cpu_seconds = time.monotonic() - began, time.process_time() - cpu_began
    return outcomes.with_figures(result, seconds, cpu_seconds, memory.peak)


def _artifact(settings: Settings, state: JobState, params: JobParams) -> Path:
    return artifact_path(settings, state.job_id, params.to or "parquet")


def _succeed(
    state: JobState,
    settings: Settings,
    record: dict[str, Any],
    params: JobParams,
    rows: int,
    result: EncodedJson,
) -> str:
    """Commit the result (a convert's artifact charged to its owner first, the result's bytes
    with it), or the cancel that landed while it was made; past the quota, fail the job."""
    if params.operation == "convert":
        charge_artifact(state.client, settings, record, _artifact(settings, state, params))
    completed = completed_progress(int(record.get("size") or 0), rows)
    # The event carries the record's final progress (100 %), so a client following the events
    # sees its progress end where the job did.
    change = state.outcome(SUCCEEDED, result=result, data=completed, progress=completed)
    try:
        # The work is done: a Redis away for a failover is waited out, not met with the job's
        # end left unwritten (it raised, and the reconciler ran the whole job again minutes
        # later).
        finished = patiently(
            lambda: commit_with_result(
                state.client, settings, state.owner, state.job_id, len(result), change
            )
        )
    except FileJobError as exc:  # past its owner's quota
        return _failed(state, settings, record, exc.as_error(), logging.INFO)
    if not finished.committed and finished.current == CANCELLING:
        return end(state, settings, record, state.cancelled(), CANCELLED)
    return end(state, settings, record, finished, SUCCEEDED)


def _retry(
    task: FileJobTask,
    state: JobState,
    record: dict[str, Any],
    attempt: int,
    exc: Exception,
    settings: Settings,
) -> str:
    delay = outcomes.retry_delay(attempt, settings.job_retry_backoff)
    error = outcomes.transient_error(exc)
    if attempt >= settings.task_max_attempts:
        # Like every other failure: a cancel that landed meanwhile ends the job cancelled.
        return _failed(state, settings, record, error, logging.WARNING)
    log.warning(
        "file job %s: transient error, retrying in %g s: %s",
        state.job_id,
        delay,
        redis_problem(exc, where=True),
    )
    with contextlib.suppress(redis.RedisError):
        # Redis itself may be the hiccup; the retry must be sent all the same.
        state.retrying(attempt, error, delay)
    sent = send_retry(
        task,
        exc=exc,
        countdown=delay,
        max_retries=settings.task_max_attempts,
        **shown_again(task.request),
    )
    if isinstance(sent, Retry):
        raise sent
    # The job stays `running` with no task: the reconciler's sweep finds it. Ignored, not
    # rejected: Celery logs a rejection with its chained tracebacks, hundreds of lines.
    log.warning(
        "file job %s: its retry could not be sent, the broker unreachable for %.0f s (%s); "
        "the reconciler sends its task again within about %.0f s",
        state.job_id,
        SEND_PATIENCE_SECONDS,
        redis_problem(sent, where=True),
        settings.reconcile_after + settings.reconcile_interval,
    )
    raise Ignore()
