"""Fixtures for the reconciler's tests: a broker client, and reconcilers sending through it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
from celery import Celery

import celeryconfig
from jobcast.settings import Settings
from workers.reconciler import Reconciler


@pytest.fixture
def broker(settings: Settings) -> Celery:
    app = Celery("test-client")
    app.config_from_object(celeryconfig.config_for(settings))
    return app


MakeReconciler = Callable[[float], Reconciler]


@pytest.fixture
def make_reconciler(
    settings: Settings, redis_client: redis.Redis, broker: Celery
) -> MakeReconciler:
    """Factory: a reconciler (no worker runs) whose bound for work with no message is the
    given seconds."""

    def send(name: str, arg: str, task_id: str | None, shown: str) -> None:
        broker.send_task(name, args=[arg], task_id=task_id, argsrepr=shown)

    def make(reconcile_after: float) -> Reconciler:
        return Reconciler(
            redis_client, settings.model_copy(update={"reconcile_after": reconcile_after}), send
        )

    return make


@pytest.fixture
def reconciler(make_reconciler: MakeReconciler) -> Reconciler:
    return make_reconciler(60.0)
