"""The Celery app Flower runs (`celery -A workers.flower_app flower`): the workers' own
(`workers.app`), on kombu's stock Redis transport, knowing every task by name.

Flower reads queue lengths (its Broker page, `/api/queues/length`) only from a broker whose URL
scheme it knows, `redis://` or `sentinel://`; with `jobcast.celery_transport` named as the
transport, kombu writes that name where the scheme goes, and Flower answered "'redis' broker is
not supported". The stock transport speaks to the same lists in the same way: what ours saves (a
redis-py client made per command) counts in a worker's hot path, not in Flower.

Flower sets a task's rate and time limits on a worker (its worker page's Limits tab) only for a
task its own app has registered, and answered 404 "Unknown task" for ours: their modules are
imported by the workers that run them (`workers.app`), and the files one loads pyarrow (~100 MB)
Flower would never use. It only sends them, by name, as the api does.
"""

from __future__ import annotations

from typing import NoReturn

from celery import Task

from jobcast.task_names import TASK_NAMES
from workers.app import app

# kombu takes the transport from the URL's scheme again.
app.conf.broker_transport = None


def _runs_on_a_worker(*_: object, **__: object) -> NoReturn:
    raise RuntimeError("a Jobcast task runs on a worker, never in Flower")


for _name in TASK_NAMES:
    # Plain `Task`, not the workers' `CappedTask`: nothing here runs, so nothing is capped.
    app.task(name=_name, base=Task, shared=False)(_runs_on_a_worker)

__all__ = ["app"]
