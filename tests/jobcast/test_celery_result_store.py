"""Celery's result backend, storing in one round trip: what Celery's own store does."""

from __future__ import annotations

import redis
from celery import Celery, states
from celery.app.task import Context

import celeryconfig
from jobcast.celery_result_store import STORED_ALONG, RedisBackend
from jobcast.settings import Settings


def backend_of(settings: Settings) -> RedisBackend:
    app = Celery("store-test")
    app.config_from_object(celeryconfig.config_for(settings))
    backend = app.backend
    assert isinstance(backend, RedisBackend)
    return backend


def test_a_result_is_stored_with_its_expiry_and_published(
    settings: Settings, redis_client: redis.Redis
) -> None:
    backend = backend_of(settings)
    with redis_client.pubsub() as listener:
        listener.subscribe("celery-task-meta-t1")
        listener.get_message(timeout=1)  # the subscription's confirmation
        backend.store_result("t1", "succeeded", states.SUCCESS)
        published = listener.get_message(timeout=2)
    assert published is not None
    assert backend.get_task_meta("t1")["result"] == "succeeded"
    assert 0 < redis_client.ttl("celery-task-meta-t1") <= settings.result_expires


def test_a_success_is_never_overwritten_and_a_failure_is(
    settings: Settings, redis_client: redis.Redis
) -> None:
    backend = backend_of(settings)
    backend.store_result("t2", ValueError("first"), states.FAILURE)
    backend.store_result("t2", "succeeded", states.SUCCESS)
    backend.store_result("t2", ValueError("late duplicate"), states.FAILURE)
    assert backend.get_task_meta("t2")["status"] == states.SUCCESS
    assert backend.get_task_meta("t2")["result"] == "succeeded"


def test_a_success_stored_along_a_pipeline_reads_as_celery_stores_it(
    settings: Settings, redis_client: redis.Redis
) -> None:
    backend = backend_of(settings)
    request = Context(id="t3", args=[], kwargs={})
    pipe = redis_client.pipeline(transaction=False)
    backend.store_along(pipe, "t3", {"rows": 3}, request)
    assert backend.get_task_meta("t3")["status"] == states.PENDING  # queued, not sent
    pipe.execute()
    meta = backend.get_task_meta("t3")
    assert (meta["status"], meta["result"], meta["task_id"]) == (states.SUCCESS, {"rows": 3}, "t3")
    assert 0 < redis_client.ttl("celery-task-meta-t3") <= settings.result_expires


def test_celery_skips_a_success_stored_along_but_not_a_failure(
    settings: Settings, redis_client: redis.Redis
) -> None:
    backend = backend_of(settings)
    request = Context(id="t4", args=[], kwargs={})
    setattr(request, STORED_ALONG, True)
    backend.store_result("t4", "again", states.SUCCESS, request=request)
    assert redis_client.get("celery-task-meta-t4") is None
    backend.store_result("t4", ValueError("failed"), states.FAILURE, request=request)
    assert backend.get_task_meta("t4")["status"] == states.FAILURE
