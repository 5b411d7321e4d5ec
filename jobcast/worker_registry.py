"""Which queues the running workers consume, as the workers report it to Redis.

Workers write (`workers.heartbeat`); `/readyz`, the launcher and the monitor read. Celery's own
heartbeats are events for Flower, and asking workers over the broker (`inspect`) takes a round
trip per probe: a hash entry per worker, refreshed every few seconds, is cheap to read.
"""

from __future__ import annotations

import json
import os
import time

import redis

from jobcast.rediskeys import WORKERS_KEY


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


def entry_name(hostname: str) -> str:
    """This worker's entry: its node name and pid. Two workers started on one host without
    `-n` are both `celery@host`; by name alone they shared one entry, each overwriting the
    other's queues and held tasks (the reconciler resent what one of them held)."""
    return f"{hostname}#{os.getpid()}"


def live_queues(entries: dict[str, str], now: float, max_age: float) -> set[str]:
    """Queues consumed by workers whose last report is younger than `max_age` seconds."""
    queues: set[str] = set()
    for raw in entries.values():
        entry = json.loads(raw)
        if now - float(entry["ts"]) <= max_age:
            queues.update(entry["queues"])
    return queues


def live_holds(entries: dict[str, str], now: float, max_age: float) -> set[str]:
    """Task ids held by workers whose last report is younger than `max_age` seconds."""
    held: set[str] = set()
    for raw in entries.values():
        entry = json.loads(raw)
        if now - float(entry["ts"]) <= max_age:
            held.update(entry.get("holds", []))
    return held
