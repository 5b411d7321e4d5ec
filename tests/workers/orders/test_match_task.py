"""A matching task whose step fails ends FAILURE in Celery (so Flower counts it), with a code."""

from __future__ import annotations

import json

import redis
from celery import Celery

import celeryconfig
from jobcast import rediskeys
from jobcast.settings import Settings
from jobcast.task_names import MATCH_TASK
from tests.conftest import StartWorker
from tests.support.processes import wait_for


def test_a_failing_matching_step_is_a_failed_task_with_its_code(
    start_worker: StartWorker, redis_client: redis.Redis, settings: Settings
) -> None:
    # Given an order accepted for a symbol this worker does not trade (an api and a worker that
    # disagree on JOBCAST_ORDER_SYMBOLS, as in a half-done deploy)
    worker = start_worker(queues="orders")
    order = ["o_" + "1" * 20, "p_x", "buy", "limit", 10, 1, "GTC", ""]
    redis_client.xadd(rediskeys.inbound_key("NOPE"), {"c": "new", "o": json.dumps(order)})
    client = Celery("test-client")
    client.config_from_object(celeryconfig.config_for(settings))

    # When its matching task runs
    result = client.send_task(MATCH_TASK, args=["NOPE"])
    result.get(timeout=30, propagate=False)

    # Then the task failed, with a code and what went wrong, and nothing was committed
    assert result.state == "FAILURE"
    assert str(result.result).startswith("internal_error: KeyError: 'NOPE'")
    assert redis_client.hget(rediskeys.market_key("NOPE"), "cursor") is None
    said = "matching NOPE failed: internal_error"
    wait_for(lambda: said in worker.output(), 10, "the failure's log line", worker)
    assert "WARNING" in next(x for x in worker.output().splitlines() if said in x)
