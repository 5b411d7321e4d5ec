"""Celery's result backend, storing in one round trip: what Celery's own store does."""

from __future__ import annotations

import redis
from celery import Celery, states

import celeryconfig
from jobcast.celery_result_store import RedisBackend
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
