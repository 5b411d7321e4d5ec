"""The reconciler: every `reconcile_interval`, one worker of the cluster sends again the task of
work that nothing will run any more (`workers.reconcile` finds it); every `queue_aging_interval`
(on the first sweep that long after the last) it moves up a file job left waiting at the head of
a lower priority (`workers.queue_aging`).

A thread in every worker's main process, like the heartbeat and the file sweep, whatever queues
the worker consumes: it needs only Redis and the broker. Each tick it tries to take or extend a
lease in Redis (the monitor's script, `realtime.monitor`); only the holder sweeps, so there is
one sweep per interval however many workers run, and when the holder dies its lease expires and
another worker takes over within `LEASE_INTERVALS` intervals.

Work is resent only when two sweeps in a row found it idle in the same way: kombu takes a
message off its queue and then records it as unacked in two steps, and a message caught between
them must not pass for lost. The two steps are consecutive calls of one worker, milliseconds
apart, so sweeps `reconcile_interval` apart (30 s by default, 10 s is as safe) cannot both fall
between them.

A sweep's cost (`bench/reconcile_sweep.py`, a real redis-server on a 2-core machine): 23 ms
median for 1,000 queued jobs idle past every bound, their messages in the queue (so the queues
are read too), the same beside 10,000 or 100,000 finished job records (it reads the unfinished
jobs' index, `workers.unfinished_jobs`, not every record); about 1 ms without the queued ones.
It grows with the jobs in flight and the messages queued, which is why the default is not lower.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from celery import signals

from jobcast import leases
from jobcast.orders.intake import PENDING_MS
from jobcast.orders.symbols import symbol_table
from jobcast.redis_clients import sync_client
from jobcast.rediskeys import RECONCILER_LEASE_KEY
from jobcast.settings import Settings, get_settings
from jobcast.task_names import FILE_JOB_TASK, MATCH_TASK, match_argsrepr
from jobcast.worker_registry import hold_grace, live_age
from workers.queue_aging import AgingCadence, Heads, promote_waited
from workers.reconcile import (
    Bounds,
    Stuck,
    claim_job,
    claim_symbol,
    file_job_shown,
    idle_jobs,
    idle_symbols,
    without_task,
)

log = logging.getLogger("jobcast.reconciler")

#: Intervals after which a silent holder's lease expires: 90 s at the default 30 s interval,
#: well past the longest a live holder goes between two extensions (an interval's wait, then a
#: tick whose Redis call hangs until REDIS_TIMEOUT gives it up).
LEASE_INTERVALS = 3
#: Seconds a Redis call may hang before the tick is given up (and retried next interval).
REDIS_TIMEOUT = 10.0

#: Sends a task: (task name, its argument, task id or None, what Flower shows as arguments).
SendTask = Callable[[str, str, str | None, str], None]


class Reconciler:
    def __init__(
        self,
        client: redis.Redis,
        settings: Settings,
        send: SendTask,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client, self.settings, self.send, self.clock = client, settings, send, clock
        self.me = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._suspects: dict[tuple[str, str], Stuck] = {}
        self._aging = AgingCadence(settings.queue_aging_interval)
        self._heads: Heads = {}  # the files queue's lower priorities' next messages, last aging

    def hold_lease(self) -> bool:
        ttl_ms = int(self.settings.reconcile_interval * LEASE_INTERVALS * 1000)
        return leases.take_or_extend(self.client, RECONCILER_LEASE_KEY, self.me, ttl_ms)

    def release(self) -> None:
        """On shutdown: give the lease up if ours, so another worker takes over at once."""
        with contextlib.suppress(redis.RedisError, OSError):
            leases.release(self.client, RECONCILER_LEASE_KEY, self.me)

    def tick(self) -> list[Stuck]:
        """One sweep if we hold the lease; the work whose task it sent again."""
        if not self.hold_lease():
            self._suspects, self._heads = {}, {}  # a later takeover starts afresh
            self._aging = AgingCadence(self.settings.queue_aging_interval)
            return []
        if self._aging.due(self.clock()):
            self.age_files_queue()
        now, bounds = time.time(), self.bounds()
        symbols = sorted(symbol_table(self.settings.order_symbols))
        found = idle_jobs(self.client, now, bounds.grace)
        found += idle_symbols(self.client, symbols, now, bounds.grace)
        # A worker silent for longer counts as dead, its held messages with it.
        heartbeat_age = live_age(self.settings.worker_heartbeat_interval)
        stuck = without_task(self.client, found, now, bounds, heartbeat_age)
        confirmed = [s for s in stuck if self._suspects.get((s.kind, s.key)) == s]
        self._suspects = {(s.kind, s.key): s for s in stuck if s not in confirmed}
        return [s for s in confirmed if self.resend(s, now)]

    def age_files_queue(self) -> None:
        self._heads, moved = promote_waited(self.client, self._heads)
        if moved:
            log.info("reconciler: %d file job(s) waited a whole aging interval; moved up", moved)

    def bounds(self) -> Bounds:
        grace = hold_grace(self.settings.worker_heartbeat_interval)
        return Bounds.of(grace, self.settings.reconcile_after)

    def resend(self, stuck: Stuck, now: float) -> bool:
        if stuck.kind == "job":
            if not claim_job(self.client, stuck, self.settings.job_retention, now):
                return False
            self.send(FILE_JOB_TASK, stuck.key, stuck.key, file_job_shown(self.client, stuck.key))
        else:
            if not claim_symbol(self.client, stuck, PENDING_MS, now):
                return False
            shown = match_argsrepr(stuck.key, self.settings.order_match_batch, "reconciler")
            self.send(MATCH_TASK, stuck.key, None, shown)
        log.warning(
            "reconciler: %s %s was %s with no task for %.0f s; sent its task again",
            stuck.kind,
            stuck.key,
            stuck.status,
            now - stuck.idle_since,
        )
        return True


class ReconcilerThread:
    def __init__(self, reconciler: Reconciler) -> None:
        self._reconciler = reconciler
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jobcast-reconciler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._reconciler.release()

    def _run(self) -> None:
        while not self._stop.wait(self._reconciler.settings.reconcile_interval):
            try:
                self._reconciler.tick()
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                log.debug("reconciler tick skipped: %s", exc)  # Redis away: next interval
            except Exception:  # a bug must not end reconciling for the worker's lifetime
                log.exception("reconciler tick failed")


_thread: ReconcilerThread | None = None


def _on_worker_ready(sender: Any, **_: Any) -> None:
    global _thread
    settings = get_settings()
    client = sync_client(settings, timeout=REDIS_TIMEOUT, connect_timeout=REDIS_TIMEOUT)

    def send(name: str, arg: str, task_id: str | None, shown: str) -> None:
        sender.app.send_task(name, args=[arg], task_id=task_id, argsrepr=shown, kwargsrepr="{}")

    _thread = ReconcilerThread(Reconciler(client, settings, send))
    _thread.start()


def _on_worker_shutdown(**_: Any) -> None:
    if _thread is not None:
        _thread.stop()


def connect_signals() -> None:
    signals.worker_ready.connect(_on_worker_ready, weak=False)
    signals.worker_shutdown.connect(_on_worker_shutdown, weak=False)
