"""What the reconciler takes for stuck, against a real Redis and broker (no worker runs)."""

from __future__ import annotations

import json
import time

import pytest
import redis
from celery import Celery

import celeryconfig
from jobcast.jobs.records import record_key
from jobcast.settings import Settings
from jobcast.task_names import FILE_JOB_TASK
from workers.reconcile import UNACKED_KEY
from workers.reconciler import LEASE_KEY, Reconciler


@pytest.fixture
def broker(settings: Settings) -> Celery:
    app = Celery("test-client")
    app.config_from_object(celeryconfig.config_for(settings))
    return app


@pytest.fixture
def reconciler(settings: Settings, redis_client: redis.Redis, broker: Celery) -> Reconciler:
    def send(name: str, arg: str, task_id: str | None, shown: str) -> None:
        broker.send_task(name, args=[arg], task_id=task_id, argsrepr=shown)

    return Reconciler(redis_client, settings.model_copy(update={"reconcile_after": 60.0}), send)


def idle_job(client: redis.Redis, job_id: str, status: str) -> None:
    """A job record last touched ten minutes ago (past the reconciler's bound of 60 s)."""
    fields = {"status": status, "owner": "p_alice", "created_at": str(time.time() - 600)}
    client.hset(record_key(job_id), mapping=fields)


def sent_ids(client: redis.Redis) -> list[str]:
    return [json.loads(raw)["headers"]["id"] for raw in client.lrange("files", 0, -1)]


def test_idle_job_with_no_message_is_resent_on_the_second_sweep_only(
    reconciler: Reconciler, redis_client: redis.Redis
) -> None:
    idle_job(redis_client, "j_lost", "running")

    assert reconciler.tick() == []  # first seen: a message may be between queue and unacked
    resent = reconciler.tick()

    assert [(s.key, s.status) for s in resent] == [("j_lost", "running")]
    assert sent_ids(redis_client) == ["j_lost"]
    assert reconciler.tick() == []  # its message is queued now


def test_idle_job_whose_message_a_worker_holds_or_a_queue_keeps_is_left_alone(
    reconciler: Reconciler, redis_client: redis.Redis, broker: Celery
) -> None:
    idle_job(redis_client, "j_held", "running")
    idle_job(redis_client, "j_waiting", "queued")
    broker.send_task(FILE_JOB_TASK, args=["j_held"], task_id="j_held")
    broker.send_task(FILE_JOB_TASK, args=["j_waiting"], task_id="j_waiting")
    # A worker took j_held and has not acked it (kombu keeps it in its `unacked` hash)
    held = redis_client.rpop("files")
    assert held is not None
    assert json.loads(held)["headers"]["id"] == "j_held"
    redis_client.hset(UNACKED_KEY, "tag-1", json.dumps([json.loads(held), "", "files"]))

    assert reconciler.tick() == []
    assert reconciler.tick() == []
    assert sent_ids(redis_client) == ["j_waiting"]


def test_finished_job_and_another_holders_lease_mean_no_resend(
    reconciler: Reconciler, redis_client: redis.Redis
) -> None:
    idle_job(redis_client, "j_done", "succeeded")
    assert reconciler.tick() == []
    assert reconciler.tick() == []

    idle_job(redis_client, "j_lost", "queued")
    redis_client.set(LEASE_KEY, "another worker", px=60_000)
    assert reconciler.tick() == []
    assert reconciler.tick() == []
    assert sent_ids(redis_client) == []
