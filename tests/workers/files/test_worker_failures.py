"""Cancel, storage hiccups, time limits and bad files, through a real api and workers.

Worker death and dropped Redis connections are in test_worker_crashes.py, so xdist can run both
at once.
"""

from __future__ import annotations

import itertools
import json
import signal
from pathlib import Path

import pytest
import redis
from celery import Celery

import celeryconfig
from jobcast.launcher import child_env
from jobcast.rediskeys import job_key, task_deaths_key
from jobcast.settings import Settings
from tests.conftest import SharedStack, StartWorker, module_stack
from tests.support.celery_events import task_events, task_sent_events
from tests.support.processes import wait_for
from tests.workers.files.support import (
    SLOW_WORKER,
    JobsClient,
    await_event,
    await_terminal,
    events,
    is_progress_past,
    terminal_events,
    write_wide_csv,
)
from workers.files.state import JobState


def submit_small_table(jobs: JobsClient, tmp_path: Path) -> str:
    """A two-row CSV job; its id."""
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    return jobs.submit_ok(path)


#: Retries of a transient error sooner than the default 2 s (doubling): the tests wait less.
QUICK_RETRIES = {"JOBCAST_JOB_RETRY_BACKOFF": "0.25"}


def stored_upload(settings: Settings, client: redis.Redis, job_id: str) -> Path:
    """Where the api stored the job's upload."""
    return settings.data_dir / "uploads" / str(client.hget(job_key(job_id), "stored"))


#: An api and a files worker for the bad-file cases, which leave both as they found them (every
#: other test here disturbs its worker or its storage, so it starts its own).
bad_file_stack = module_stack(worker_queues="files")


def test_cancelled_running_job_stops_at_the_next_batch(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    start_worker(queues="files", env=SLOW_WORKER)
    job_id = jobs.submit_ok(write_wide_csv(tmp_path / "wide.csv", 8 << 20))
    await_event(redis_client, job_id, is_progress_past(500))

    response = jobs.http.delete(f"/jobs/{job_id}")

    assert response.status_code == 202
    assert response.json()["status"] in ("cancelling", "cancelled")
    final = await_terminal(redis_client, job_id)
    assert final["type"] == "job.cancelled"
    # Rows done when the cancel landed: the last progress event before `cancelling`.
    history = events(redis_client, job_id)
    asked = next(i for i, e in enumerate(history) if e["data"].get("status") == "cancelling")
    rows = [e["data"]["rows"] for e in history[:asked] if e["type"] == "job.progress"]
    one_batch = max(b - a for a, b in itertools.pairwise(rows))
    assert final["data"]["rows"] - rows[-1] <= one_batch
    assert jobs.job(job_id)["status"] == "cancelled"
    assert jobs.http.get(f"/jobs/{job_id}/result").json()["error"]["code"] == "job_cancelled"
    # It will never finish: no ETA, in the event, over REST and in a snapshot alike (it showed
    # the last estimate, as if the job were still going).
    assert final["data"]["eta_seconds"] is None
    for shown in (jobs.job(job_id), jobs.snapshot(job_id)):
        assert shown["progress"]["rows"] == final["data"]["rows"]
        assert shown["progress"]["eta_seconds"] is None, shown["progress"]


def test_queued_job_cancelled_before_a_worker_is_free_never_runs(
    jobs: JobsClient,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    path = tmp_path / "small.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    job_id = jobs.submit_ok(path)

    response = jobs.http.delete(f"/jobs/{job_id}")
    assert response.json()["status"] == "cancelled"
    start_worker(queues="files")

    client = Celery("test-client")
    client.config_from_object(celeryconfig.config_for(settings))
    outcome = client.AsyncResult(job_id)
    outcome.get(timeout=30, propagate=False)
    assert outcome.state == "REVOKED"  # as Flower shows it
    assert [e["type"] for e in events(redis_client, job_id)] == ["job.queued", "job.cancelled"]
    assert list((settings.data_dir / "uploads").iterdir()) == []


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"a,b,c\n" + b"1,2,3\n" * 10 + b"1,2,3,4\n", "ragged_rows"),
        (b"a,b\n", "no_rows"),
        (bytes(range(256)) * 64, "unrecognized_format"),
        # Detected when the sample shows it; past the sample, fails as pandas' read_csv would.
        (b"x,y\n" + b"a,1\n" * 20_000 + "José,1\n".encode("latin-1"), "invalid_encoding"),
    ],
    ids=["too-many-fields", "header-only", "binary", "late-latin-1"],
)
def test_bad_file_ends_failed_with_its_code(
    bad_file_stack: SharedStack, tmp_path: Path, content: bytes, code: str
) -> None:
    jobs = JobsClient(bad_file_stack.url, bad_file_stack.new_key("alice")[0])
    path = tmp_path / "bad.csv"
    path.write_bytes(content)

    job_id = jobs.submit_ok(path)

    final = await_terminal(bad_file_stack.redis, job_id)
    assert final["type"] == "job.failed"
    assert jobs.job(job_id)["error"]["code"] == code
    jobs.http.close()


def test_bad_file_is_one_log_line_and_a_failure_without_traceback_in_flower(
    bad_file_stack: SharedStack, tmp_path: Path
) -> None:
    jobs = JobsClient(bad_file_stack.url, bad_file_stack.new_key("alice")[0])
    path = tmp_path / "bad.bin"
    path.write_bytes(bytes(range(256)) * 64)
    listener = bad_file_stack.redis.pubsub()
    listener.psubscribe("*celeryev*")  # what Flower reads
    listener.get_message(timeout=1)  # the subscription's confirmation

    job_id = jobs.submit_ok(path)

    # Flower's FAILURE carries the job's error code and message and a runtime, and no traceback
    # of our own `raise` (the input is at fault, not the code)
    (failed,) = task_events(listener, 30, "task-failed", job_id)
    listener.close()
    assert "unrecognized_format: " in failed["exception"]
    assert not failed["traceback"]
    assert failed["runtime"] > 0
    # The worker says it once, at INFO: Celery's "raised expected" repeated it
    worker = bad_file_stack.procs[0]
    wait_for(lambda: f"file job {job_id} failed" in worker.output(), 10, "the failure's line")
    told = [line for line in worker.output().splitlines() if job_id in line]
    assert [line for line in told if "failed" in line or "raised" in line] == [
        next(line for line in told if f"file job {job_id} failed: unrecognized_format" in line)
    ]
    jobs.http.close()


def test_storage_hiccup_is_retried_with_backoff_and_then_succeeds(
    jobs: JobsClient,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    job_id = submit_small_table(jobs, tmp_path)
    first_shown = json.loads(str(redis_client.lindex("files", 0)))["headers"]["argsrepr"]
    stored = stored_upload(settings, redis_client, job_id)
    aside = stored.rename(tmp_path / "aside.csv")
    stored.mkdir()  # reading it now fails with an OSError, as an unmounted volume would
    listener = redis_client.pubsub()
    listener.psubscribe("*celeryev*")  # what Flower reads

    # A second before the retry (half the default): the storage is mended well within it.
    start_worker(queues="files", env={"JOBCAST_JOB_RETRY_BACKOFF": "1"})
    retrying = await_event(redis_client, job_id, lambda e: e["data"].get("status") == "retrying")
    stored.rmdir()
    aside.rename(stored)

    assert retrying["data"]["error"]["code"] == "transient_error"
    assert retrying["data"]["retry_in"] > 0
    final = await_terminal(redis_client, job_id)
    assert final["type"] == "job.succeeded"
    assert final["data"]["error"] is None  # the hiccup's error went with its retrying status
    record = jobs.job(job_id)
    assert (record["status"], record["attempt"], record["error"]) == ("succeeded", 2, None)
    assert jobs.result(job_id)["rows"] == 2
    # Flower shows the retry's arguments as it showed the first send's
    resent = [e for e in task_sent_events(listener, 1.0) if e["uuid"] == job_id]
    listener.close()
    assert [(e["args"], e["kwargs"]) for e in resent] == [(first_shown, "{}")]
    assert "operation='profile'" in first_shown


def test_storage_failing_on_every_attempt_ends_failed_once_after_the_last_attempt(
    jobs: JobsClient,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    job_id = submit_small_table(jobs, tmp_path)
    stored = stored_upload(settings, redis_client, job_id)
    stored.unlink()
    stored.mkdir()  # every read fails with an OSError, as a volume that stays unmounted would
    attempts = settings.task_max_attempts

    start_worker(queues="files", env=QUICK_RETRIES)
    final = await_terminal(redis_client, job_id, timeout=30)

    assert final["type"] == "job.failed"
    assert final["data"]["error"]["code"] == "transient_error"
    history = events(redis_client, job_id)
    starts = [e["data"]["attempt"] for e in history if e["type"] == "job.started"]
    assert starts == list(range(1, attempts + 1))
    retries = [e["data"]["retry_in"] for e in history if e["data"].get("status") == "retrying"]
    assert retries[0] == float(QUICK_RETRIES["JOBCAST_JOB_RETRY_BACKOFF"])  # the setting, honoured
    assert retries == [retries[0] * 2**n for n in range(attempts - 1)]  # the backoff doubles
    assert len(terminal_events(redis_client, job_id)) == 1
    record = jobs.job(job_id)
    assert (record["status"], record["attempt"]) == ("failed", attempts)
    assert record["error"]["code"] == "transient_error"
    client = Celery("test-client")
    client.config_from_object(celeryconfig.config_for(settings))
    outcome = client.AsyncResult(job_id)
    outcome.get(timeout=10, propagate=False)
    assert outcome.state == "FAILURE"  # the task failed once, with the job's error
    assert str(outcome.result).startswith("transient_error: ")
    assert (
        redis_client.get(task_deaths_key(job_id)) is None
    )  # retries are not deaths of its process


def test_job_past_its_soft_time_limit_fails_as_time_limit(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    limits = {"JOBCAST_JOB_SOFT_TIME_LIMIT": "1", "JOBCAST_JOB_TIME_LIMIT": "20"}
    worker = start_worker(queues="files", env={**SLOW_WORKER, **limits})
    # Several seconds of work in 64 KiB batches (6-8 s unloaded), from a file written in a
    # blink: a narrow table needed 160 MiB for as much (seconds to write and upload). It stops
    # at the limit all the same.
    job_id = jobs.submit_ok(write_wide_csv(tmp_path / "wide.csv", 8 << 20))

    final = await_terminal(redis_client, job_id, timeout=30)

    assert final["type"] == "job.failed"
    assert final["data"]["error"]["code"] == "time_limit"
    assert [e["type"] for e in terminal_events(redis_client, job_id)] == ["job.failed"]
    # Stopped mid-read: how far it got, and no ETA (the record kept its last estimate).
    for shown in (jobs.job(job_id), jobs.snapshot(job_id)):
        assert shown["progress"]["rows"] > 0, shown["progress"]
        assert shown["progress"]["eta_seconds"] is None, shown["progress"]
    # The operator's limit: a warning in the worker's log, as memory_limit is.
    line = f"file job {job_id} failed: time_limit"
    wait_for(lambda: line in worker.output(), 10, "the time_limit log line")
    lines = [text for text in worker.output().splitlines() if f"file job {job_id} failed" in text]
    assert len(lines) == 1, lines  # it was logged where it failed and again by the task
    assert "WARNING" in lines[0]


def test_cancel_during_the_last_failing_attempt_ends_the_job_cancelled(
    jobs: JobsClient,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The task module builds the Celery app from the environment when imported.
    for name, value in child_env(settings).items():
        monkeypatch.setenv(name, value)
    from workers.files import tasks

    # Given a job in its last attempt (no worker runs: the attempt is driven from here)
    job_id = submit_small_table(jobs, tmp_path)
    loaded = JobState.load(redis_client, job_id, settings.job_retention)
    assert loaded is not None
    state, record = loaded
    assert state.start(settings.task_max_attempts, int(record["size"])).committed
    # When the owner cancels it, and then the attempt fails on a transient error
    assert jobs.http.delete(f"/jobs/{job_id}").json()["status"] == "cancelling"
    error = OSError("storage went away")
    outcome = tasks._retry(None, state, record, settings.task_max_attempts, error, settings)  # type: ignore[arg-type]

    # Then the job ends cancelled, once, instead of staying `cancelling` for good
    assert outcome == "cancelled"
    assert [e["type"] for e in terminal_events(redis_client, job_id)] == ["job.cancelled"]
    assert jobs.job(job_id)["status"] == "cancelled"


def test_a_stop_during_a_job_logs_one_warning_line_and_requeues_it(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    # As `jobcast up` stops a worker (and Ctrl-C in a terminal): SIGTERM to its process group,
    # the running pool process included. It logged two ERRORs and a 30-line WorkerLostError,
    # then two WARNINGs (the pool process's exit, and the task's loss), where README says one.
    worker = start_worker(queues="files", env=SLOW_WORKER)
    # Seconds of work in this worker's small batches, well under one in the next one's.
    job_id = jobs.submit_ok(write_wide_csv(tmp_path / "wide.csv", 8 << 20))
    await_event(redis_client, job_id, is_progress_past(500))
    worker.kill_group(signal.SIGTERM)
    # The next worker starts while this one shuts down (each takes a second or two); the job is
    # interrupted already, and requeued by this one's shutdown.
    start_worker(queues="files")
    worker.popen.wait(timeout=30)

    log = worker.output()
    assert "Traceback" not in log
    assert "ERROR" not in log
    warnings = [line for line in log.splitlines() if "WARNING" in line]
    interrupted = [line for line in warnings if "(the worker is stopping" in line]
    assert len(interrupted) == 1, warnings
    assert "WorkerLostError" in interrupted[0]
    assert "runs on the next free worker" in interrupted[0]
    assert not any("ForkPoolWorker" in line for line in warnings)
    # ... and nothing was lost: the job runs again on the next worker.
    assert await_terminal(redis_client, job_id, timeout=60)["type"] == "job.succeeded"
