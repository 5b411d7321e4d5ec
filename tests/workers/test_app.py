"""A worker imports the task modules of the queues it consumes only, and every task routed to a
queue it consumes is one it knows (no "unregistered task" for work sent its way)."""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatch

import psutil
import pytest
import redis
from celery import Celery

import celeryconfig
from jobcast.settings import Settings
from jobcast.task_names import TASK_NAMES
from tests.conftest import RedisServer, launch_worker
from tests.support.processes import Proc

#: Worker name -> the queues it consumes.
WORKERS = {"files": "files", "orders": "orders", "both": "files,orders"}


@pytest.fixture(scope="module")
def workers(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, dict[str, Proc]]]:
    """One worker of each kind in WORKERS, for both tests: each only asks a worker what it
    loaded, and a worker start costs a CPU-second or more (a files worker more)."""
    workdir = tmp_path_factory.mktemp("workers")
    settings = redis_server.settings_for(workdir, shared=True)
    client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
    procs: dict[str, Proc] = {}
    try:
        for name, queues in WORKERS.items():
            procs[name] = launch_worker(settings, workdir, client, queues, name=name)
        yield settings, procs
    finally:
        for proc in procs.values():
            proc.kill()
        client.close()
        redis_server.release(settings.broker_url)


def routed_queue(name: str, settings: Settings) -> str:
    routes = celeryconfig.config_for(settings)["task_routes"]
    return next(route["queue"] for glob, route in routes.items() if fnmatch(name, glob))


def registered(settings: Settings, procs: dict[str, Proc]) -> dict[str, set[str]]:
    app = Celery("probe", config_source=celeryconfig.config_for(settings))
    replies = app.control.inspect(timeout=5.0, limit=len(procs)).registered() or {}
    return {
        node.split("@")[0]: {task.split()[0] for task in tasks} for node, tasks in replies.items()
    }


def test_each_worker_knows_every_task_of_its_queues_and_no_other(
    workers: tuple[Settings, dict[str, Proc]],
) -> None:
    settings, procs = workers
    found = registered(settings, procs)
    assert set(found) == set(WORKERS)
    for name, queues in WORKERS.items():
        ours = {task for task in found[name] if task.startswith("jobcast.")}
        assert ours == {task for task in TASK_NAMES if routed_queue(task, settings) in queues}, name


def extensions_loaded(proc: Proc) -> set[str]:
    """The packages whose compiled extensions the worker's main process has mapped."""
    maps = psutil.Process(proc.popen.pid).memory_maps()
    return {
        m.path.split("site-packages/")[1].split("/")[0] for m in maps if "site-packages/" in m.path
    }


def test_an_orders_worker_never_loads_the_files_stack(
    workers: tuple[Settings, dict[str, Proc]],
) -> None:
    files, orders = workers[1]["files"], workers[1]["orders"]
    stack = {"pyarrow", "pandas", "numpy", "python_calamine"}
    assert stack <= extensions_loaded(files)  # what the check sees, where the stack is loaded
    assert not stack & extensions_loaded(orders)
