"""Each worker's heartbeat: a thread that keeps its entry in the worker registry fresh
(`jobcast.worker_registry`), extends its hold on its node name (`workers.name_claim`) and
reports its host's figures for the monitor, all in one round trip a beat. (The task counters
the monitor turns into rates are counted by every task's attempt-cap scripts,
`workers.attempts`, in round trips each task makes anyway.)
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

import redis
from celery import signals
from celery.worker import state as worker_state

from jobcast.figures import HostSampler, queue_report
from jobcast.redis_clients import sync_client
from jobcast.settings import get_settings
from jobcast.worker_registry import forget, queue_hold_name, release_name, report
from workers.name_claim import claim_ttl_ms, own_mark

log = logging.getLogger("jobcast.worker")


class Heartbeat:
    def __init__(self, client: redis.Redis, hostname: str, queues: list[str], interval: float):
        self._client, self._hostname, self._queues = client, hostname, queues
        self._interval = interval
        self._holds_name = True  # claimed at start (`workers.name_claim`)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jobcast-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        # Shutting down anyway: if Redis is away, the entry simply ages out.
        with contextlib.suppress(redis.RedisError):
            forget(self._client, self._hostname)
            release_name(self._client, self._hostname, own_mark())

    def _run(self) -> None:
        sampler = HostSampler()
        while not self._stop.is_set():
            # Redis may be away for a moment; the next beat tries again.
            with contextlib.suppress(redis.RedisError):
                self.beat(sampler)
            self._stop.wait(self._interval)

    def beat(self, sampler: HostSampler) -> None:
        """Extend this worker's hold on its node name, report what it consumes and holds, and
        the monitor's figures (this host's CPU, memory and network, and this worker): one
        round trip."""
        pipe = self._client.pipeline(transaction=False)
        queue_hold_name(pipe, self._hostname, own_mark(), claim_ttl_ms(self._interval))
        report(pipe, self._hostname, self._queues, held_task_ids())
        queue_report(pipe, sampler, "worker", {"name": self._hostname, "queues": self._queues})
        held, *_ = pipe.execute()
        self._note_name(bool(held))

    def _note_name(self, held: bool) -> None:
        if self._holds_name and not held:
            # Silent past its claim (Redis away, a frozen host) and another took the name.
            log.warning("worker name %s is held by another worker now", self._hostname)
        self._holds_name = held


def held_task_ids() -> list[str]:
    """Ids of the tasks this worker holds unacked: reserved, due later, or running. The
    reconciler takes a held message whose id no live worker reports for one a dead worker held."""
    for _ in range(3):
        try:
            return list(worker_state.requests)
        except RuntimeError:  # the consumer changed it meanwhile (another thread): read again
            continue
    return []


_beat: Heartbeat | None = None


def _on_worker_ready(sender: Any, **_: Any) -> None:
    global _beat
    settings = get_settings()
    queues = sorted(sender.app.amqp.queues.consume_from.keys())
    client = sync_client(settings)
    _beat = Heartbeat(client, sender.hostname, queues, settings.worker_heartbeat_interval)
    _beat.start()


def _on_worker_shutdown(**_: Any) -> None:
    if _beat is not None:
        _beat.stop()


def connect_signals() -> None:
    signals.worker_ready.connect(_on_worker_ready, weak=False)
    signals.worker_shutdown.connect(_on_worker_shutdown, weak=False)
