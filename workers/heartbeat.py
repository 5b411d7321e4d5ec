"""Workers report which queues they consume to Redis, so `/readyz` and the launcher can tell.

Celery's own heartbeats are events for Flower; asking workers over the broker (`inspect`) takes
a round trip per probe. A hash entry per worker, refreshed every few seconds, is cheap to read.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from typing import Any

import redis
from celery import signals

from jobcast.settings import get_settings
from realtime.figures import TASKS_FINISHED_KEY, TASKS_STARTED_KEY, HostSampler, report_sync
from workers.context import worker_context

#: Redis hash: worker hostname -> {"queues": [...], "pid": ..., "ts": ...}.
WORKERS_KEY = "jobcast:workers"


def report(client: redis.Redis, hostname: str, queues: list[str]) -> None:
    entry = {"queues": queues, "pid": os.getpid(), "ts": time.time()}
    client.hset(WORKERS_KEY, hostname, json.dumps(entry))


def live_queues(entries: dict[str, str], now: float, max_age: float) -> set[str]:
    """Queues consumed by workers whose last report is younger than `max_age` seconds."""
    queues: set[str] = set()
    for raw in entries.values():
        entry = json.loads(raw)
        if now - float(entry["ts"]) <= max_age:
            queues.update(entry["queues"])
    return queues


class Heartbeat:
    def __init__(self, client: redis.Redis, hostname: str, queues: list[str], interval: float):
        self._client, self._hostname, self._queues = client, hostname, queues
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jobcast-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        # Shutting down anyway: if Redis is away, the entry simply ages out.
        with contextlib.suppress(redis.RedisError):
            self._client.hdel(WORKERS_KEY, self._hostname)

    def _run(self) -> None:
        sampler = HostSampler()
        while not self._stop.is_set():
            # Redis may be away for a moment; the next beat tries again.
            with contextlib.suppress(redis.RedisError):
                report(self._client, self._hostname, self._queues)
                # The monitor's figures: this host's CPU, memory and network, and this worker.
                report_sync(
                    self._client,
                    sampler,
                    "worker",
                    {"name": self._hostname, "queues": self._queues},
                )
            self._stop.wait(self._interval)


_beat: Heartbeat | None = None


def _on_worker_ready(sender: Any, **_: Any) -> None:
    global _beat
    settings = get_settings()
    queues = sorted(sender.app.amqp.queues.consume_from.keys())
    client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
    _beat = Heartbeat(client, sender.hostname, queues, settings.worker_heartbeat_interval)
    _beat.start()


def _on_worker_shutdown(**_: Any) -> None:
    if _beat is not None:
        _beat.stop()


def _count(key: str) -> None:
    # Counted in Redis (pool processes are separate processes); the monitor turns the totals
    # into started/finished per second. A lost increment while Redis is away is acceptable.
    with contextlib.suppress(redis.RedisError):
        worker_context().redis.incr(key)


def _on_task_prerun(**_: Any) -> None:
    _count(TASKS_STARTED_KEY)


def _on_task_postrun(**_: Any) -> None:
    _count(TASKS_FINISHED_KEY)


def connect_signals() -> None:
    signals.worker_ready.connect(_on_worker_ready, weak=False)
    signals.worker_shutdown.connect(_on_worker_shutdown, weak=False)
    signals.task_prerun.connect(_on_task_prerun, weak=False)
    signals.task_postrun.connect(_on_task_postrun, weak=False)
