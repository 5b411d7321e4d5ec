"""The broker refuses what it must: pickled messages, and tasks that keep killing their worker."""

from __future__ import annotations

import secrets

import pytest
import redis
from celery import Celery
from celery.result import AsyncResult

import celeryconfig
from jobcast.rediskeys import TASKS_FINISHED_KEY, TASKS_STARTED_KEY
from jobcast.settings import Settings
from jobcast.tallies import TASKS_KEY
from tests.conftest import StartWorker
from tests.support.processes import wait_for

SAMPLE_TASKS = ["tests.workers.sample_tasks"]


@pytest.fixture
def client_app(settings: Settings) -> Celery:
    app = Celery("jobcast-test-client")
    app.config_from_object(celeryconfig.config_for(settings))
    return app


def test_pickled_task_is_refused_and_never_runs(
    start_worker: StartWorker, client_app: Celery, redis_client: redis.Redis
) -> None:
    worker = start_worker(queues="orders", include=SAMPLE_TASKS)
    pickled_key, sentinel_key = f"pickled-{secrets.token_hex(4)}", f"json-{secrets.token_hex(4)}"

    # Given a pickled message for a task with a side effect, followed by a JSON one
    client_app.send_task(
        "jobcast.test.touch", args=[pickled_key], queue="orders", serializer="pickle"
    )
    client_app.send_task("jobcast.test.touch", args=[sentinel_key], queue="orders")

    # When the worker has handled the JSON message sent after it
    wait_for(lambda: redis_client.exists(sentinel_key) == 1, 30, "the JSON task to run", worker)

    # Then the pickled one was refused: no side effect, and not left in the queue to retry
    assert redis_client.exists(pickled_key) == 0
    assert redis_client.llen("orders") == 0
    assert "pickle" in worker.output().lower()


def test_task_that_kills_its_worker_fails_after_the_cap_and_its_quarantine(
    start_worker: StartWorker, client_app: Celery, redis_client: redis.Redis
) -> None:
    # Two deaths redelivered at once, then one run in quarantine (after 0.2 s)
    cap = {
        "JOBCAST_TASK_MAX_ATTEMPTS": "2",
        "JOBCAST_TASK_QUARANTINE_MAX": "1",
        "JOBCAST_TASK_QUARANTINE_DELAY": "0.2",
    }
    start_worker(queues="orders", include=SAMPLE_TASKS, env=cap)
    counter = f"crashes-{secrets.token_hex(4)}"

    result: AsyncResult = client_app.send_task(
        "jobcast.test.crash_own_process", args=[counter], queue="orders"
    )

    with pytest.raises(Exception, match="died 3 times while running it") as failure:
        result.get(timeout=90, propagate=True)
    assert type(failure.value).__name__ == "AttemptsExhaustedError"
    assert str(failure.value).startswith("attempts_exhausted: ")
    assert result.state == "FAILURE"
    assert int(redis_client.get(counter) or 0) == 3  # it ran twice at once, once in quarantine
    assert redis_client.hget(TASKS_KEY, "quarantined|jobcast.test.crash_own_process") == "1"


def test_each_task_run_is_counted_started_and_finished_for_the_monitor(
    start_worker: StartWorker, client_app: Celery, redis_client: redis.Redis
) -> None:
    start_worker(queues="orders", include=SAMPLE_TASKS)
    for n in range(3):
        sent = client_app.send_task("jobcast.test.touch", args=[f"counted-{n}"], queue="orders")
        sent.get(timeout=30)
    assert redis_client.get(TASKS_STARTED_KEY) == "3"
    assert redis_client.get(TASKS_FINISHED_KEY) == "3"
