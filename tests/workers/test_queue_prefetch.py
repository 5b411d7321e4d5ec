"""Workers started as the README's scale-out section says get their settings from celeryconfig."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import redis
from celery import Celery

import celeryconfig
from jobcast.settings import Settings
from tests.conftest import await_consuming
from tests.support.processes import Proc, process_env, running, spawn, wait_for

CONCURRENCY = 2
#: Worker name -> the queues it is started with (none: no `-Q`).
WORKERS = {"files": ["files"], "orders": ["orders"], "both": []}


def readme_worker_argv(queues: list[str], name: str) -> list[str]:
    # The README's command, plus a name to address it and a fixed pool size.
    argv = [sys.executable, "-m", "celery", "-A", "workers.app", "worker"]
    if queues:
        argv += ["-Q", ",".join(queues)]
    return [*argv, "-n", f"{name}@%h", "--concurrency", str(CONCURRENCY)]


def inspect_all(app: Celery, procs: list[Proc]) -> dict[str, dict[str, Any]]:
    """`celery inspect stats` and `active_queues` of every worker, keyed by its short name."""
    found: dict[str, dict[str, Any]] = {}

    def all_answered() -> bool:
        # Back once every worker answered: without a limit, each call took its whole timeout.
        inspect = app.control.inspect(timeout=2.0, limit=len(procs))
        stats, queues = inspect.stats() or {}, inspect.active_queues() or {}
        for node in stats.keys() & queues.keys():
            found[node.split("@")[0]] = {**stats[node], "queues": queues[node]}
        return len(found) == len(procs)

    wait_for(all_answered, 60, "every worker to answer inspect")
    return found


def test_hand_started_workers_get_their_queues_prefetch_and_task_events(
    settings: Settings, tmp_path: Path, redis_client: redis.Redis
) -> None:
    env = process_env(settings)
    procs = [
        spawn(name, readme_worker_argv(qs, name), env, tmp_path) for name, qs in WORKERS.items()
    ]
    app = Celery("probe", config_source=celeryconfig.config_for(settings))
    with running(procs):
        # Each consuming first: an inspect sent before a worker listens waits out its timeout.
        for proc, queues in zip(procs, WORKERS.values(), strict=True):
            await_consuming(proc, redis_client, ",".join(queues or ["files", "orders"]))
        report = inspect_all(app, procs)
    # prefetch_count is the pool size times the multiplier: 8 for orders, 1 wherever files run.
    assert report["orders"]["prefetch_count"] == CONCURRENCY * 8
    assert report["files"]["prefetch_count"] == CONCURRENCY * 1
    assert report["both"]["prefetch_count"] == CONCURRENCY * 1
    assert {q["name"] for q in report["both"]["queues"]} == {"files", "orders"}
    assert {q["name"] for q in report["orders"]["queues"]} == {"orders"}
    for proc in procs:  # each worker's banner says what Flower needs
        assert "task events: ON" in proc.output(), proc.output()[-2000:]
