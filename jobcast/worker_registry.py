"""Which queues the running workers consume, as the workers report it to Redis.

Workers write (`workers.heartbeat`); `/readyz`, the launcher and the monitor read. Celery's own
heartbeats are events for Flower, and asking workers over the broker (`inspect`) takes a round
trip per probe: a hash entry per worker, refreshed every few seconds, is cheap to read.

Beside it, each node name (`-n`) is held by one live worker process at a time, a lease its
heartbeat extends (`workers.name_claim`): Celery's own check of a name already in use is mingle,
which our workers leave off.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from typing import Any

import redis

from jobcast import leases
from jobcast.rediskeys import WORKERS_KEY, worker_name_key

#: Heartbeat intervals after which a silent worker counts as gone (`/readyz`, `/metrics`, the
#: reconciler): its process was killed, its host lost, or it froze.
LIVE_BEATS = 3


def report(
    client: redis.Redis, hostname: str, queues: list[str], holds: list[str] | None = None
) -> None:
    """Say that worker `hostname` consumes `queues` and holds the tasks `holds` (taken from the
    broker and not acked: waiting, due later or running), now."""
    entry = {"queues": queues, "holds": holds or [], "pid": os.getpid(), "ts": time.time()}
    client.hset(WORKERS_KEY, entry_name(hostname), json.dumps(entry))


def forget(client: redis.Redis, hostname: str) -> None:
    """Take a stopping worker out of the registry at once (instead of letting it age out)."""
    client.hdel(WORKERS_KEY, entry_name(hostname))


def queue_forget_process(pipe: redis.client.Pipeline, hostname: str, pid: int) -> None:
    """Take the process `pid`, known dead, out of the registry (queued on `pipe`): a worker
    killed and started again under its name was counted twice until its entry aged out."""
    pipe.hdel(WORKERS_KEY, entry_name(hostname, pid))


def hold_name(client: redis.Redis, hostname: str, mark: str, ttl_ms: int) -> bool:
    """Take the node name `hostname` for the process `mark` if free, or extend its hold; whether
    that process holds it now."""
    return leases.take_or_extend(client, worker_name_key(hostname), mark, ttl_ms)


def queue_hold_name(pipe: redis.client.Pipeline, hostname: str, mark: str, ttl_ms: int) -> None:
    """`hold_name` queued on `pipe` (the heartbeat's round trip): its reply there is 1 when the
    process `mark` holds the name now, else 0."""
    leases.queue_take_or_extend(pipe, worker_name_key(hostname), mark, ttl_ms)


def name_holder(client: redis.Redis, hostname: str) -> str | None:
    """The mark of the process holding the node name `hostname` (None when none does)."""
    held = client.get(worker_name_key(hostname))
    return held.decode() if isinstance(held, bytes) else held


def release_name(client: redis.Redis, hostname: str, mark: str) -> None:
    """Let go of the node name `hostname`, only if the process `mark` still holds it."""
    leases.release(client, worker_name_key(hostname), mark)


def entry_name(hostname: str, pid: int | None = None) -> str:
    """This worker's entry: its node name and pid. Two workers started on one host without
    `-n` are both `celery@host`; by name alone they shared one entry, each overwriting the
    other's queues and held tasks (the reconciler resent what one of them held). Another
    process's when `pid` names it."""
    return f"{hostname}#{os.getpid() if pid is None else pid}"


def live_age(heartbeat_interval: float) -> float:
    """Seconds since its last report within which a worker counts as alive: `LIVE_BEATS`
    heartbeats, so one late beat (a busy host, a Redis hiccup) does not count it gone."""
    return LIVE_BEATS * heartbeat_interval


def hold_grace(heartbeat_interval: float) -> float:
    """Seconds after a worker took a message by which, if it counts as alive, one of its reports
    lists it: a live worker reported within `live_age`, and one heartbeat more covers the time
    between kombu recording the message as taken and Celery registering its request."""
    return live_age(heartbeat_interval) + heartbeat_interval


def live_entries(entries: dict[str, str], now: float, max_age: float) -> list[dict[str, Any]]:
    """The reports of workers whose last report is younger than `max_age` seconds."""
    decoded = (json.loads(raw) for raw in entries.values())
    return [entry for entry in decoded if now - float(entry["ts"]) <= max_age]


def live_queues(entries: dict[str, str], now: float, max_age: float) -> set[str]:
    """Queues consumed by workers whose last report is younger than `max_age` seconds."""
    return {queue for entry in live_entries(entries, now, max_age) for queue in entry["queues"]}


def live_holds(entries: dict[str, str], now: float, max_age: float) -> set[str]:
    """Task ids held by workers whose last report is younger than `max_age` seconds."""
    live = live_entries(entries, now, max_age)
    return {task_id for entry in live for task_id in entry.get("holds", [])}


def workers_by_queue(
    entries: dict[str, str], now: float, max_age: float, queues: Iterable[str]
) -> dict[str, int]:
    """How many live workers consume each of `queues` (0 for one none consumes)."""
    live = live_entries(entries, now, max_age)
    return {queue: sum(queue in entry["queues"] for entry in live) for queue in queues}
