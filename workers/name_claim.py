"""A worker refuses to start under a node name (`-n`) a live worker already holds.

Two workers of one name are one to Flower and to `celery inspect`/control replies, and their
registry entries and task marks read as one worker's. Celery's own check is mingle, which our
workers leave off (`--without-mingle`, README: Scaling out), so the name is claimed here, in
the worker registry (`jobcast.worker_registry`): a lease taken at start in one step (of two
starting at once, one wins), extended by the heartbeat (`workers.heartbeat`), given up at stop.

A claim left by a killed worker would block its own restart until it aged out: one left by a
process of this host that no longer runs is taken over at once, as `jobcast up` restarts a
dead worker, and the dead one's registry entry and monitor report go with it (counted beside
the new one's, the restart looked like a second worker). One from another host is live until
its heartbeats stop for `live_age`.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from typing import Any

import redis
from celery import signals

from jobcast import worker_registry
from jobcast.figures import forget_process
from jobcast.process_marks import (
    left_by_a_live_process,
    own_start,
    process_mark,
    process_started_at,
)
from jobcast.redis_clients import redis_problem, sync_client
from jobcast.settings import get_settings

log = logging.getLogger("jobcast.worker")


@functools.cache
def own_mark() -> str:
    """This worker process's mark as a name's holder: host, pid and start time, as a task
    delivery's running mark names its process (`jobcast.process_marks`), so one rule judges both."""
    pid = os.getpid()
    return process_mark(socket.gethostname(), pid, own_start(pid), "name")


def claim_ttl_ms(heartbeat_interval: float) -> int:
    """How long a claim outlives its holder's last heartbeat: as long as its registry entry."""
    return int(worker_registry.live_age(heartbeat_interval) * 1000)


def left_by_a_dead_process(mark: str, host: str) -> bool:
    """Whether `mark` names a process of this `host` that no longer runs (pid gone or reused)."""
    return mark.split(":", 1)[0] == host and not left_by_a_live_process(
        mark, host, process_started_at
    )


def claim(client: redis.Redis, hostname: str, mark: str, ttl_ms: int) -> str | None:
    """Take the node name `hostname` for `mark`: None once held, else the live holder's mark."""
    holder: str | None = None
    for _ in range(3):  # a dead holder's claim dropped, then another start may win the name
        if worker_registry.hold_name(client, hostname, mark, ttl_ms):
            return None
        holder = worker_registry.name_holder(client, hostname)
        if holder is not None and not left_by_a_dead_process(holder, socket.gethostname()):
            return holder
        if holder is not None:
            worker_registry.release_name(client, hostname, holder)
            forget_dead_holder(client, hostname, holder)
    return holder


def forget_dead_holder(client: redis.Redis, hostname: str, holder: str) -> None:
    """Drop the registry entry and monitor report of the dead process `holder` (a mark from
    `own_mark`) that held `hostname`: a crash must not look like a second worker until they age
    out."""
    host, pid = holder.split(":")[:2]
    pipe = client.pipeline(transaction=False)
    worker_registry.queue_forget_process(pipe, hostname, int(pid))
    forget_process(pipe, "worker", host, int(pid))
    pipe.execute()


def refusal(hostname: str, holder: str, live_age: float) -> str:
    """The one line a worker refused its name exits with."""
    host, pid = [*holder.split(":"), "?"][:2]  # a mark from `own_mark`
    other = hostname.split("@", 1)[0] + "2@%h"
    return (
        f"worker name {hostname} is taken: a live worker holds it (pid {pid} on {host}); "
        f"start this one under another name with -n (e.g. -n {other}), or stop that one "
        f"first (a worker silent for {live_age:g} s counts as gone)"
    )


def _on_worker_init(sender: Any, **_: Any) -> None:
    settings = get_settings()
    client = sync_client(settings)
    try:
        ttl_ms = claim_ttl_ms(settings.worker_heartbeat_interval)
        holder = claim(client, sender.hostname, own_mark(), ttl_ms)
    except redis.RedisError as exc:
        # The heartbeat takes the name once Redis answers, if it is free then.
        log.warning("could not claim the worker name: %s", redis_problem(exc, where=True))
        return
    finally:
        client.close()
    if holder is not None:
        live_age = worker_registry.live_age(settings.worker_heartbeat_interval)
        log.critical("%s", refusal(sender.hostname, holder, live_age))
        raise SystemExit(1)  # not Exception: Celery's signal dispatch would log it on


def connect_signals() -> None:
    signals.worker_init.connect(_on_worker_init, weak=False)
