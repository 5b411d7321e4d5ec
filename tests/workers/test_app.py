"""A worker imports the task modules of the queues it consumes only, and every task routed to a
queue it consumes is one it knows (no "unregistered task" for work sent its way)."""

from __future__ import annotations

from fnmatch import fnmatch

import psutil
from celery import Celery

import celeryconfig
from jobcast.settings import Settings
from jobcast.task_names import TASK_NAMES
from tests.conftest import StartWorker
from tests.support.processes import Proc

#: Worker name -> the queues it consumes.
WORKERS = {"files": "files", "orders": "orders", "both": "files,orders"}


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
    settings: Settings, start_worker: StartWorker
) -> None:
    procs = {name: start_worker(queues, name=name) for name, queues in WORKERS.items()}
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
    settings: Settings, start_worker: StartWorker
) -> None:
    files, orders = start_worker("files", name="files"), start_worker("orders", name="orders")
    stack = {"pyarrow", "pandas", "numpy", "python_calamine"}
    assert stack <= extensions_loaded(files)  # what the check sees, where the stack is loaded
    assert not stack & extensions_loaded(orders)
