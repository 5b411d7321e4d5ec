"""What Celery (and so Flower) records of a file job matches the job: a queued job's task is
listed before a worker takes it, a failed job's task is FAILURE with its error, a succeeded one
SUCCESS, and its arguments say what the job is."""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from celery import Celery

import celeryconfig
from jobcast.embedded_redis import free_port
from jobcast.rediskeys import task_deaths_key, task_running_key
from jobcast.settings import Settings
from tests.conftest import StartWorker
from tests.support.celery_events import task_events
from tests.support.processes import Proc, http_status, process_env, spawn, wait_for
from tests.workers.files.support import (
    SLOW_WORKER,
    JobsClient,
    await_event,
    await_terminal,
    events,
    is_progress_past,
    write_wide_csv,
)

UNKNOWN_COLUMN = json.dumps(
    {"operation": "aggregate", "group_by": ["nope"], "metrics": {"a": ["sum"]}}
)


@pytest.fixture
def celery_client(settings: Settings) -> Celery:
    client = Celery("test-client")
    client.config_from_object(celeryconfig.config_for(settings))
    return client


def small_table(tmp_path: Path, name: str = "sales.csv") -> Path:
    path = tmp_path / name
    path.write_text("a,b\n1,2\n3,4\n")
    return path


@dataclass
class Flower:
    proc: Proc
    url: str
    password: str

    def tasks(self) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/api/tasks", auth=("admin", self.password), timeout=5)
        assert response.status_code == 200, response.text
        tasks: dict[str, Any] = response.json()
        return tasks


@pytest.fixture
def flower(settings: Settings, tmp_path: Path, redis_client: redis.Redis) -> Iterator[Flower]:
    """Flower watching the test's stack, started before anything is submitted: it sees every
    event."""
    password = secrets.token_urlsafe(12)
    proc, url = start_flower(settings, tmp_path, password, redis_client)
    try:
        yield Flower(proc, url, password)
    finally:
        proc.stop()


def start_flower(
    settings: Settings, tmp_path: Path, password: str, client: redis.Redis
) -> tuple[Proc, str]:
    """Flower, once it answers and listens for events (its subscription is a pattern: an event
    published before it would be missed)."""
    patterns = int(client.pubsub_numpat())
    port = free_port()
    env = process_env(
        settings, {"FLOWER_BASIC_AUTH": f"admin:{password}", "FLOWER_UNAUTHENTICATED_API": "false"}
    )
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.app",
        "flower",
        "--address=127.0.0.1",
        f"--port={port}",
    ]
    proc = spawn("flower", argv, env, tmp_path)
    url = f"http://127.0.0.1:{port}"

    wait_for(lambda: http_status(url) == 401, 60, "flower", proc)
    wait_for(lambda: int(client.pubsub_numpat()) > patterns, 30, "flower's event listener", proc)
    return proc, url


def test_a_failed_job_is_a_failed_task_once_in_celery_and_flower_and_a_good_one_succeeds(
    jobs: JobsClient,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    flower: Flower,
    tmp_path: Path,
    celery_client: Celery,
) -> None:
    # Flower started first (the fixture): it sees every event.
    failing = jobs.submit_ok(small_table(tmp_path, "q3 sales.csv"), UNKNOWN_COLUMN)
    fine = jobs.submit_ok(small_table(tmp_path))

    # Queued, with no worker yet: Flower lists it from the task-sent event written with it.
    def queued_in_flower() -> bool:
        return flower.tasks().get(fine, {}).get("state") == "PENDING"

    wait_for(queued_in_flower, 30, "flower to list the queued task", flower.proc)
    assert "owner='alice'" in flower.tasks()[fine]["args"]

    worker = start_worker(queues="files")
    await_terminal(redis_client, failing)

    # Celery's own record of the task: FAILURE with the job's error, delivered once.
    failed = celery_client.AsyncResult(failing)
    failed.get(timeout=30, propagate=False)
    assert failed.state == "FAILURE"
    assert str(failed.result).startswith("unknown_column: ")
    assert "nope" in str(failed.result)
    types = [e["type"] for e in events(redis_client, failing)]
    assert types.count("job.failed") == 1
    assert types.count("job.started") == 1
    # It ended in its process: no death counted, and its running mark is cleared.
    assert redis_client.get(task_deaths_key(failing)) is None
    assert redis_client.exists(task_running_key(failing)) == 0
    assert jobs.job(failing)["attempt"] == 1
    succeeded = celery_client.AsyncResult(fine)
    assert succeeded.get(timeout=30) == "succeeded"
    assert succeeded.state == "SUCCESS"

    # The worker log says which job failed and why, once, at INFO: the input is at fault,
    # the owner's to fix (it said so at INFO, then again at WARNING).
    said = f"file job {failing} failed: unknown_column"
    wait_for(lambda: said in worker.output(), 10, "the failure's log line", worker)
    lines = [x for x in worker.output().splitlines() if f"file job {failing} failed" in x]
    assert len(lines) == 1, lines
    assert "INFO" in lines[0]
    # Its message once: with no reader's error under ours the line repeated it, as
    # `(FileJobError("No column named 'nope'; …"))`.
    assert lines[0].count("No column named 'nope'") == 1, lines[0]
    assert "FileJobError" not in lines[0]

    # Flower shows the failure, and arguments that say what the job is.
    def failed_in_flower() -> bool:
        return flower.tasks().get(failing, {}).get("state") == "FAILURE"

    wait_for(failed_in_flower, 30, "flower to see the task fail", flower.proc)
    task = flower.tasks()[failing]
    assert task["name"] == "jobcast.files.run"
    assert "operation='aggregate'" in task["args"]
    assert "file='q3 sales.csv'" in task["args"]
    assert "owner='alice'" in task["args"]
    assert "size=12" in task["args"]
    assert "unknown_column" in task["exception"]
    # Flower's API needs the credentials; its /metrics does not, and carries no arguments.
    assert httpx.get(f"{flower.url}/api/tasks", timeout=5).status_code == 401
    assert "q3 sales.csv" not in httpx.get(f"{flower.url}/metrics", timeout=5).text


def test_a_cancelled_jobs_task_is_revoked_in_celery_and_flower_and_stays_so_when_redelivered(
    jobs: JobsClient,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    flower: Flower,
    tmp_path: Path,
    celery_client: Celery,
) -> None:
    # Flower started first (the fixture): it sees every event.
    # One cancelled while queued (its task starts later and finds the cancel), one while
    # it runs (it stops between batches): both showed SUCCESS, result 'cancelled'.
    queued = jobs.submit_ok(small_table(tmp_path))
    assert jobs.http.delete(f"/jobs/{queued}").json()["status"] == "cancelled"
    running = jobs.submit_ok(write_wide_csv(tmp_path / "wide.csv", 8 << 20))
    worker = start_worker(queues="files", env=SLOW_WORKER)
    await_event(redis_client, running, is_progress_past(500))
    assert jobs.http.delete(f"/jobs/{running}").status_code == 202
    assert await_terminal(redis_client, running)["type"] == "job.cancelled"

    def revoked_in_flower() -> bool:
        shown = flower.tasks()
        return all(shown.get(job, {}).get("state") == "REVOKED" for job in (queued, running))

    wait_for(revoked_in_flower, 30, "flower to see both tasks revoked", flower.proc)
    for job in (queued, running):
        assert celery_client.AsyncResult(job).state == "REVOKED"
        assert jobs.job(job)["status"] == "cancelled"
    assert [e["type"] for e in events(redis_client, queued)] == ["job.queued", "job.cancelled"]
    history = [e["type"] for e in events(redis_client, running)]
    assert history.count("job.cancelled") == 1

    # A redelivery (the reconciler's resend, a lost ack) finds the job ended: it does
    # nothing to the job, and the task stays revoked.
    listener = redis_client.pubsub()
    listener.psubscribe("*celeryev*")  # what Flower reads
    listener.get_message(timeout=1)  # the subscription's confirmation
    celery_client.send_task("jobcast.files.run", args=[running], task_id=running, queue="files")
    (again,) = task_events(listener, 30, "task-revoked", running)
    listener.close()
    assert not again["terminated"]
    assert celery_client.AsyncResult(running).state == "REVOKED"
    assert [e["type"] for e in events(redis_client, running)] == history
    # Celery's line for it says so, not "ignored" (the Ignore the task raises is how).
    said = f"Task jobcast.files.run[{running}] revoked: its job was cancelled"
    wait_for(lambda: said in worker.output(), 10, "the cancelled task's line", worker)
    assert f"[{running}] ignored" not in worker.output()
