"""The worker registry keeps one entry per worker process (`jobcast.worker_registry`)."""

from __future__ import annotations

import json
import multiprocessing
import time

import redis

from jobcast.rediskeys import WORKERS_KEY
from jobcast.settings import Settings
from jobcast.worker_registry import forget, live_holds, live_queues, report, workers_by_queue


def _report_from_another_process(url: str) -> None:
    report(redis.Redis.from_url(url), "celery@samehost", ["orders"], ["t-orders"])


def test_two_workers_of_one_name_keep_an_entry_each(
    redis_client: redis.Redis, settings: Settings
) -> None:
    # Started by hand on one host without -n, both are celery@host: by name alone the second
    # report overwrote the first, and the reconciler no longer saw the first one's held tasks.
    report(redis_client, "celery@samehost", ["files"], ["t-files"])
    child = multiprocessing.get_context("spawn").Process(
        target=_report_from_another_process,
        args=(settings.broker_url,),
    )
    child.start()
    child.join(30)
    entries: dict[str, str] = redis_client.hgetall(WORKERS_KEY)  # type: ignore[assignment]
    assert len(entries) == 2
    assert live_queues(entries, time.time(), 60) == {"files", "orders"}
    assert live_holds(entries, time.time(), 60) == {"t-files", "t-orders"}
    forget(redis_client, "celery@samehost")  # a stopping worker takes out its own entry only
    left = [json.loads(v) for v in redis_client.hgetall(WORKERS_KEY).values()]
    assert [entry["queues"] for entry in left] == [["orders"]]


def test_workers_are_counted_by_queue_while_their_reports_are_fresh() -> None:
    now = time.time()
    entries = {
        "a#1": json.dumps({"queues": ["files", "orders"], "ts": now - 1}),
        "b#2": json.dumps({"queues": ["files"], "ts": now - 2}),
        "c#3": json.dumps({"queues": ["files"], "ts": now - 10}),  # silent too long: gone
    }
    counts = workers_by_queue(entries, now, 5, ["files", "orders", "other"])
    assert counts == {"files": 2, "orders": 1, "other": 0}
