"""The attempt cap tells a poison task from bad luck.

Deaths count, then quarantine, then failure.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import redis
import redis.asyncio as aioredis
from celery import Celery
from celery.events.state import State

import celeryconfig
from api.cluster_metrics import exposition, read_snapshot
from jobcast.process_marks import process_mark, process_started_at
from jobcast.rediskeys import task_deaths_key, task_running_key
from jobcast.settings import Settings
from jobcast.tallies import TASKS_KEY
from realtime.channels import Channel, job_snapshot
from tests.conftest import StartApi, StartWorker, new_principal
from tests.support.celery_events import task_events
from tests.workers.files.support import (
    JobsClient,
    await_event,
    await_terminal,
    events,
    terminal_events,
    write_large_csv,
)
from workers.attempts import Verdict, judge
from workers.stop_logs import breach_started_at, leave_breach_note

#: The first death is redelivered at once, the next three quarantined (0.2 s, doubling).
CAP = {
    "JOBCAST_TASK_MAX_ATTEMPTS": "2",
    "JOBCAST_TASK_QUARANTINE_MAX": "3",
    "JOBCAST_TASK_QUARANTINE_DELAY": "0.2",
}
#: Small batches and a progress event per batch: the job runs long enough to be killed in it.
SLOW_WORKER = {"JOBCAST_JOB_BATCH_BYTES": "65536", "JOBCAST_JOB_PROGRESS_INTERVAL": "0.001"}


@pytest.mark.parametrize(
    ("deaths", "died", "verdict"),
    [
        (0, False, Verdict("run", 0)),
        (1, True, Verdict("run", 1)),  # under the cap: redelivered at once
        (2, True, Verdict("quarantine", 2, 30.0)),
        (3, True, Verdict("quarantine", 3, 60.0)),  # the wait doubles
        (4, False, Verdict("run", 4)),  # the quarantined delivery itself runs
        (5, True, Verdict("exhaust", 5)),
    ],
)
def test_deaths_are_redelivered_then_quarantined_then_failed(
    deaths: int, died: bool, verdict: Verdict
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        task_max_attempts=2, task_quarantine_max=3, task_quarantine_delay=30, _env_file=None
    )

    assert judge(deaths, died, settings) == verdict


def _mark_of(pid: int) -> str:
    return process_mark(socket.gethostname(), pid, process_started_at(pid) or 0.0, "t")


def test_a_delivery_whose_mark_redis_kept_counts_a_death_only_if_its_process_died(
    start_worker: StartWorker, redis_client: redis.Redis, broker: Celery
) -> None:
    # A delivery that ended while Redis was away could not clear its mark; its process lives.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_mark = _mark_of(gone.pid)
    gone.wait()
    marks = {"lives": _mark_of(os.getpid()), "died": dead_mark}
    for task_id, mark in marks.items():
        redis_client.set(task_running_key(task_id), mark)
    start_worker(queues="orders", include=["tests.workers.sample_tasks"])

    for task_id in marks:
        sent = broker.send_task("jobcast.test.touch", args=[f"touched-{task_id}"], task_id=task_id)
        sent.get(timeout=30)

    assert redis_client.get(task_deaths_key("lives")) is None
    assert redis_client.get(task_deaths_key("died")) == "1"
    assert redis_client.hget(TASKS_KEY, "deaths|jobcast.test.touch") == "1"


def test_a_delivery_whose_process_ended_itself_uncommitted_counts_no_death(
    start_worker: StartWorker, redis_client: redis.Redis, broker: Celery
) -> None:
    # Its watchdog killed it over a job's memory and the main process could not commit the
    # failure (Redis away): it kept the breach note, which names the process that ended itself.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    mark = _mark_of(gone.pid)
    gone.wait()
    leave_breach_note(gone.pid, {"job_id": "j", "started": float(mark.split(":")[2])})
    redis_client.set(task_running_key("ended-itself"), mark)
    start_worker(queues="orders", include=["tests.workers.sample_tasks"])

    sent = broker.send_task("jobcast.test.touch", args=["touched"], task_id="ended-itself")
    sent.get(timeout=30)

    assert redis_client.get(task_deaths_key("ended-itself")) is None
    assert breach_started_at(gone.pid) is None  # the note is taken: a later death counts


@pytest.fixture
def jobs(
    start_api: StartApi, redis_client: redis.Redis, settings: Settings
) -> Iterator[JobsClient]:
    _, base_url = start_api()
    key, _ = new_principal(redis_client, settings, "alice")
    client = JobsClient(base_url, key)
    yield client
    client.http.close()


def started(attempt: int) -> Any:
    return lambda e: e["type"] == "job.started" and e["data"]["attempt"] == attempt


def test_job_killed_from_outside_more_often_than_the_cap_still_succeeds_once(
    jobs: JobsClient,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    tmp_path: Path,
    settings: Settings,
) -> None:
    worker = start_worker(queues="files", env={**CAP, **SLOW_WORKER})
    job_id = jobs.submit_ok(write_large_csv(tmp_path / "big.csv", 2 << 20))

    # An operator (or the OOM killer) kills the job's process three times, each time mid-job
    for attempt in (1, 2, 3):
        began = await_event(redis_client, job_id, started(attempt), timeout=60)
        await_event(
            redis_client,
            job_id,
            lambda e, s=began["seq"]: e["seq"] > s and e["type"] == "job.progress",  # type: ignore[misc]
        )
        (pool,) = [
            c
            for c in psutil.Process(worker.popen.pid).children()
            if c.status() != psutil.STATUS_ZOMBIE
        ]
        pool.send_signal(signal.SIGKILL)

    # The job was quarantined after each death past the first, then ran to its one outcome
    final = await_terminal(redis_client, job_id, timeout=60)
    assert final["type"] == "job.succeeded"
    assert len(terminal_events(redis_client, job_id)) == 1
    history = events(redis_client, job_id)
    quarantined = [e["data"]["error"] for e in history if e["data"].get("status") == "retrying"]
    assert [q["code"] for q in quarantined] == ["quarantined", "quarantined"]
    assert "died 2 times while running it" in quarantined[0]["message"]
    assert [e["data"]["attempt"] for e in history if e["type"] == "job.started"] == [1, 2, 3, 4]
    assert redis_client.get(task_deaths_key(job_id)) == "3"
    assert redis_client.hget(TASKS_KEY, "deaths|jobcast.files.run") == "3"
    assert redis_client.hget(TASKS_KEY, "quarantined|jobcast.files.run") == "2"
    # Its record, snapshot and outcome event say it succeeded with no error: the quarantine's
    # reason went with the retrying status it explained; the deaths stay in `attempt`
    record = jobs.job(job_id)
    assert (record["status"], record["attempt"], record["error"]) == ("succeeded", 4, None)
    assert final["data"]["error"] is None
    assert job_snapshot_of(settings, job_id)["error"] is None
    # Each death is one WARNING line of the worker naming the job and what follows, with no
    # traceback nor billiard's "Job: <index>" (an expected condition, not a crash of ours)
    said = [line for line in worker.output().splitlines() if "its process died (SIGKILL)" in line]
    assert [line.split("] ", 1)[1] for line in said] == [
        f"file job {job_id}: its process died (SIGKILL), death 1 of 2; it runs again",
        f"file job {job_id}: its process died (SIGKILL), death 2 of 2; quarantined, "
        "it runs again in 0.2 s",
        f"file job {job_id}: its process died (SIGKILL), death 3, in quarantine; "
        "it runs again in 0.4 s",
    ]
    assert all("WARNING/MainProcess" in line for line in said)
    assert "Traceback" not in worker.output()
    assert "exited with" not in worker.output()
    figures = metrics_text(settings)
    assert 'jobcast_task_deaths_total{task="jobcast.files.run"} 3.0' in figures
    assert 'jobcast_tasks_quarantined_total{task="jobcast.files.run"} 2.0' in figures


def test_quarantined_task_shows_its_reason_and_next_run_in_flower(
    start_worker: StartWorker, redis_client: redis.Redis, settings: Settings
) -> None:
    # The first death quarantines the task for a minute: long enough to look at it waiting
    cap = {"JOBCAST_TASK_MAX_ATTEMPTS": "1", "JOBCAST_TASK_QUARANTINE_DELAY": "60"}
    start_worker(queues="orders", include=["tests.workers.sample_tasks"], env=cap)
    listener = redis_client.pubsub()
    listener.psubscribe("*celeryev*")  # what Flower reads
    listener.get_message(timeout=1)  # the subscription's confirmation
    client = Celery("test-client")
    client.config_from_object(celeryconfig.config_for(settings))
    task_id = f"crash-{secrets.token_hex(4)}"

    client.send_task(
        "jobcast.test.crash_own_process", args=[task_id], queue="orders", task_id=task_id
    )

    # Flower's state, fed the events until both the retry and the resend's receipt (held for
    # its run in 60 s) came, in whichever order
    flower = State()
    seen = {"task-received": 0, "task-retried": 0}
    deadline = time.monotonic() + 30
    while (seen["task-received"] < 3 or not seen["task-retried"]) and time.monotonic() < deadline:
        for event in task_events(listener, 1, "", task_id=None):
            flower.event({**event, "local_received": time.time()})  # as a receiver adds
            if event.get("uuid") == task_id and event["type"] in seen:
                seen[event["type"]] += 1
    listener.close()
    task = flower.tasks[task_id]
    assert "TaskQuarantinedError" in task.exception
    assert "died once while running it; quarantined, next run in 60 s" in task.exception
    assert (task.retries, task.eta is not None) == (1, True)
    assert task.state in ("RETRY", "RECEIVED")  # as README's "What Flower shows" tells


def job_snapshot_of(settings: Settings, job_id: str) -> dict[str, Any]:
    """The record a WebSocket subscriber to `job.{job_id}` is sent first, read in process."""

    async def read() -> dict[str, Any] | None:
        client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        try:
            return (await job_snapshot(client, Channel(f"job.{job_id}", "job", f"job.{job_id}")))[0]
        finally:
            await client.aclose()

    snapshot = asyncio.run(read())
    assert snapshot is not None
    return snapshot


def metrics_text(settings: Settings) -> str:
    """The cluster figures `/metrics` serves, read in process."""

    async def read() -> bytes:
        client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        try:
            return exposition(await read_snapshot(client, settings))
        finally:
            await client.aclose()

    return asyncio.run(read()).decode()
