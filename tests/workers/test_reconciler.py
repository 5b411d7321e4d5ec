"""The reconciler sends again the task of work nothing would run, through a real api and workers."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery

import celeryconfig
from jobcast.events import read_since
from jobcast.rediskeys import UNACKED_KEY, WORKERS_KEY, task_running_key
from jobcast.settings import Settings
from jobcast.tallies import ORDERS_KEY, RECONCILER_KEY, TASKS_KEY
from jobcast.task_names import FILE_JOB_TASK
from jobcast.worker_registry import hold_grace
from realtime.channels import MONITOR_ADMIN
from tests.conftest import StartApi, StartWorker, StartWorkers, new_principal
from tests.support.celery_events import task_sent_events
from tests.support.processes import Proc, wait_for
from tests.workers.files.support import (
    SLOW_WORKER,
    JobsClient,
    await_event,
    await_terminal,
    events,
    terminal_events,
    write_large_csv,
)
from tests.workers.orders.support import ORDER_ENV, new_trader
from workers.reconcile import OPERATOR_CHANNEL
from workers.reconciler import LEASE_INTERVALS

#: A reconciler that sweeps every 0.3 s and takes work idle for 1 s as stuck.
FAST_RECONCILER = {"JOBCAST_RECONCILE_INTERVAL": "0.3", "JOBCAST_RECONCILE_AFTER": "1"}


@pytest.fixture
def celery_client(settings: Settings) -> Celery:
    client = Celery("test-client")
    client.config_from_object(celeryconfig.config_for(settings))
    return client


@pytest.fixture
def jobs(
    start_api: StartApi, redis_client: redis.Redis, settings: Settings
) -> Iterator[JobsClient]:
    _, base_url = start_api()
    key, _ = new_principal(redis_client, settings, "alice")
    client = JobsClient(base_url, key)
    yield client
    client.http.close()


def queued_task_ids(client: redis.Redis, queue: str) -> list[str]:
    return [json.loads(raw)["headers"]["id"] for raw in client.lrange(queue, 0, -1)]


def reconciler_events(client: redis.Redis) -> list[dict[str, Any]]:
    """What the reconciler announced to operators (on `monitor.admin`, among the samples)."""
    assert OPERATOR_CHANNEL == MONITOR_ADMIN  # admins see it; it names other users' jobs
    on_monitor = read_since(client, OPERATOR_CHANNEL, "0-0")
    return [e["data"] for e in on_monitor if e["type"] == "reconciler.requeued"]


def test_job_whose_message_was_lost_or_doubled_runs_once(
    jobs: JobsClient,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    tmp_path: Path,
    celery_client: Celery,
) -> None:
    # Given a queued job whose Celery message is gone (as after Redis lost its last AOF second)
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    job_id = jobs.submit_ok(path)
    assert queued_task_ids(redis_client, "files") == [job_id]
    assert redis_client.lrem("files", 0, redis_client.lindex("files", 0) or "") == 1

    # When a worker (and with it the reconciler) runs
    worker = start_worker(queues="files", concurrency=2, env=FAST_RECONCILER)

    # Then the job runs, once, and the resend is announced and counted
    assert await_terminal(redis_client, job_id, timeout=30)["type"] == "job.succeeded"
    assert celery_client.AsyncResult(job_id).get(timeout=10) == "succeeded"
    types = [e["type"] for e in events(redis_client, job_id)]
    assert types.count("job.requeued") == 1
    assert types.count("job.started") == 1
    assert len(terminal_events(redis_client, job_id)) == 1
    requeued = next(e for e in events(redis_client, job_id) if e["type"] == "job.requeued")
    assert requeued["data"]["status"] == "queued"
    assert requeued["data"]["idle_seconds"] >= 1
    assert redis_client.hget(RECONCILER_KEY, "job|queued") == "1"
    shown = reconciler_events(redis_client)
    assert [(d["kind"], d["job_id"]) for d in shown] == [("job", job_id)]
    assert jobs.result(job_id)["rows"] == 2

    # And a job with two messages (a resend racing a message the sweep could not see) and two
    # worker processes to run both at once still ends once
    doubled = jobs.submit_ok(write_large_csv(tmp_path / "big.csv", 1 << 20))
    celery_client.send_task(FILE_JOB_TASK, args=[doubled], task_id=doubled)
    ended = f"[{doubled}] succeeded"
    wait_for(lambda: worker.output().count(ended) == 2, 60, "both deliveries to end", worker)
    assert len(terminal_events(redis_client, doubled)) == 1
    assert jobs.job(doubled)["status"] == "succeeded"


def test_a_resent_jobs_task_shows_what_the_job_is_in_flower(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    # Given a queued job whose Celery message is gone, and Flower's view of the task events
    path = tmp_path / "sales.csv"
    path.write_text("a,b\n1,2\n")
    job_id = jobs.submit_ok(path)
    assert redis_client.lrem("files", 0, redis_client.lindex("files", 0) or "") == 1
    listener = redis_client.pubsub()
    listener.psubscribe("*celeryev*")

    # When the reconciler sends its task again
    start_worker(queues="files", env=FAST_RECONCILER)
    assert await_terminal(redis_client, job_id, timeout=30)["type"] == "job.succeeded"

    # Then the resend's task-sent event reads as the api's first send did
    sent = [e for e in task_sent_events(listener, 1.0) if e["uuid"] == job_id]
    listener.close()
    shown = f"('{job_id}', operation='profile', file='sales.csv', size=8, owner='alice')"
    assert [(e["name"], e["args"], e["kwargs"]) for e in sent] == [(FILE_JOB_TASK, shown, "{}")]


def test_job_whose_worker_was_killed_outright_runs_on_another_worker_once(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    # Given a job running on a worker whose main process is SIGKILLed with its pool (as when its
    # host goes away): kombu keeps the job's message unacked until the visibility timeout
    # (twice the job time limit); its heartbeat stops listing it, and the reconciler sees that
    # no live worker holds it
    first = start_worker(queues="files", env=FAST_RECONCILER)
    job_id = jobs.submit_ok(write_large_csv(tmp_path / "big.csv", 8 << 20))
    await_event(redis_client, job_id, lambda e: e["type"] == "job.started", timeout=30)
    first.kill_group(signal.SIGKILL)
    first.popen.wait(timeout=10)
    assert jobs.job(job_id)["status"] == "running"
    assert redis_client.hlen(UNACKED_KEY) == 1

    # When another worker (and with it the reconciler) runs
    start_worker(queues="files", env=FAST_RECONCILER)

    # Then the job is sent again and ends once, with the result of one run
    assert await_terminal(redis_client, job_id, timeout=90)["type"] == "job.succeeded"
    types = [e["type"] for e in events(redis_client, job_id)]
    assert types.count("job.requeued") == 1
    assert len(terminal_events(redis_client, job_id)) == 1
    assert redis_client.hget(RECONCILER_KEY, "job|running") == "1"
    assert jobs.result(job_id)["rows"] > 0


def holder_of(client: redis.Redis, task_id: str, workers: list[Proc]) -> Proc:
    """The worker whose heartbeat lists `task_id` among the tasks it holds."""
    by_pid = {w.popen.pid: w for w in workers}

    def pids() -> list[int]:
        entries = (json.loads(raw) for raw in client.hvals(WORKERS_KEY))
        return [e["pid"] for e in entries if task_id in e["holds"] and e["pid"] in by_pid]

    wait_for(lambda: bool(pids()), 10, f"a worker to report holding {task_id}")
    return by_pid[pids()[0]]


def test_job_whose_worker_died_is_resent_within_seconds_not_the_slow_bound(
    jobs: JobsClient,
    start_workers: StartWorkers,
    redis_client: redis.Redis,
    tmp_path: Path,
    settings: Settings,
) -> None:
    # Given two workers, a long job running on one of them, and the slow bound a minute
    sweeps = {"JOBCAST_RECONCILE_INTERVAL": "0.5", "JOBCAST_RECONCILE_AFTER": "60"}
    workers = start_workers(2, queues="files", env={**SLOW_WORKER, **sweeps})
    job_id = jobs.submit_ok(write_large_csv(tmp_path / "big.csv", 30 << 20))
    await_event(redis_client, job_id, lambda e: e["type"] == "job.started", timeout=30)
    holder = holder_of(redis_client, job_id, workers)

    # When its whole process group is SIGKILLed, as when its host dies
    holder.kill_group(signal.SIGKILL)
    holder.popen.wait(timeout=10)
    assert jobs.job(job_id)["status"] == "running"

    # Then its job is sent again within the grace (a live worker would have listed the message)
    # and two sweeps, plus the lease's takeover and slack; not after the minute
    grace = hold_grace(settings.worker_heartbeat_interval)
    bound = grace + 2 * 0.5 + LEASE_INTERVALS * 0.5 + 5
    requeued = await_event(redis_client, job_id, lambda e: e["type"] == "job.requeued", bound)
    assert requeued["data"]["status"] == "running"
    assert grace <= requeued["data"]["idle_seconds"] < bound
    # And it ends once, requeued once, on its second start
    assert await_terminal(redis_client, job_id, timeout=90)["type"] == "job.succeeded"
    types = [e["type"] for e in events(redis_client, job_id)]
    assert types.count("job.requeued") == 1
    starts = [
        e["data"]["attempt"] for e in events(redis_client, job_id) if e["type"] == "job.started"
    ]
    assert starts == [1, 2]
    assert jobs.job(job_id)["attempt"] == 2
    assert len(terminal_events(redis_client, job_id)) == 1
    assert redis_client.hget(RECONCILER_KEY, "job|running") == "1"


def test_symbol_whose_matching_task_was_exhausted_is_matched_without_a_new_order(
    start_api: StartApi,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    settings: Settings,
    celery_client: Celery,
) -> None:
    _, base_url = start_api(env=ORDER_ENV)
    seller = new_trader(redis_client, settings, base_url, "seller")
    buyer = new_trader(redis_client, settings, base_url, "buyer")
    # Given two crossing orders whose matching task already saw its process die, with a cap of
    # one death and no quarantine: its next delivery is its last
    sell = seller.place(symbol="BTC-USD", side="sell", quantity=2, price="100").json()
    buy = buyer.place(symbol="BTC-USD", side="buy", quantity=2, price="100").json()
    (task_id,) = queued_task_ids(redis_client, "orders")
    redis_client.set(task_running_key(task_id), "a process that died")
    cap = {"JOBCAST_TASK_MAX_ATTEMPTS": "1", "JOBCAST_TASK_QUARANTINE_MAX": "0"}

    # When an orders worker delivers it
    start_worker(queues="orders", env={**ORDER_ENV, **cap, **FAST_RECONCILER})
    exhausted = celery_client.AsyncResult(task_id)
    exhausted.get(timeout=30, propagate=False)

    # Then the task failed as exhausted, yet the reconciler had the orders matched
    assert exhausted.state == "FAILURE"
    assert str(exhausted.result).startswith("attempts_exhausted: ")
    assert redis_client.hget(TASKS_KEY, "exhausted|jobcast.orders.match") == "1"

    def filled() -> bool:
        return all(
            t.order(o["id"])["status"] == "filled" for t, o in ((seller, sell), (buyer, buy))
        )

    wait_for(filled, 30, "the waiting orders to be matched")
    assert redis_client.hget(ORDERS_KEY, "accepted") == "2"  # no new order arrived
    assert redis_client.hget(RECONCILER_KEY, "symbol") == "1"
    shown = reconciler_events(redis_client)
    assert [(d["kind"], d["symbol"]) for d in shown] == [("symbol", "BTC-USD")]
