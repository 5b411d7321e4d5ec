"""The Celery application that `python -m workers` and `celery -A workers.app` run.

Task modules are listed by queue in `QUEUE_TASK_MODULES`; a worker imports those of the queues
it consumes, as it starts, so the api (which sends tasks by name) never loads pandas or the
matching engine, and an `orders` worker never loads the files stack (pyarrow, calamine: ~0.2 s
of CPU at each start).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from typing import Any

from celery import Celery, signals

import celeryconfig
from jobcast import orphan_watch
from jobcast.filemodes import keep_new_files_private
from jobcast.settings import Settings, get_settings
from jobcast.unknown_settings import unknown_variable_warnings
from workers import celery_logging

#: The modules defining the tasks routed to each queue (`celeryconfig`'s `task_routes`). Every
#: task is sent by name (the api, the reconciler) or resent by its own module, so a worker needs
#: only the tasks of the queues it takes.
QUEUE_TASK_MODULES: dict[str, tuple[str, ...]] = {
    celeryconfig.FILES_QUEUE: ("workers.files.tasks",),
    celeryconfig.ORDERS_QUEUE: ("workers.orders.tasks",),
}
#: Every task module.
TASK_MODULES: tuple[str, ...] = tuple(m for ms in QUEUE_TASK_MODULES.values() for m in ms)


def task_modules_for(queues: Iterable[str]) -> list[str]:
    """The task modules of a worker consuming `queues`: every one for a queue not listed above
    (whatever is routed there, no message finds its task unknown)."""
    modules = [QUEUE_TASK_MODULES.get(queue, TASK_MODULES) for queue in queues]
    return list(dict.fromkeys(m for ms in modules for m in ms))


def create_celery_app(settings: Settings) -> Celery:
    celery_app = Celery("jobcast", task_cls="workers.attempts:CappedTask")
    celery_app.config_from_object(celeryconfig.config_for(settings))
    return celery_app


def _import_task_modules(sender: Any, **_: Any) -> None:
    # Sent once `-Q` is applied (and `--include`'s modules imported), before the pool forks and
    # the consumer reads the registered tasks. Kept in `include` as Celery keeps `--include`'s.
    app, modules = sender.app, task_modules_for(sender.app.amqp.queues.consume_from)
    for module in modules:
        app.loader.import_task_module(module)
    app.conf.include = tuple(dict.fromkeys((*app.conf.include, *modules)))


def _apply_queue_prefetch(sender: Any, **_: Any) -> None:
    # Sent once `-Q` is applied and before the consumer is built from `prefetch_multiplier`,
    # so a worker started by hand gets its queues' prefetch as `jobcast up` and compose do.
    sender.prefetch_multiplier = celeryconfig.prefetch_for(sender.app.amqp.queues.consume_from)


def _watch_the_launcher(**_: Any) -> None:
    orphan_watch.start()  # in the main process, before the pool forks (its processes die with it)


def _warn_of_unknown_variables(**_: Any) -> None:
    # Once, in the worker's main process, as it starts: a misspelt setting's default is in force.
    for warning in unknown_variable_warnings(os.environ):
        logging.getLogger("jobcast.worker").warning("%s", warning)


keep_new_files_private()  # results and artifacts under the data dir are other people's data
app = create_celery_app(get_settings())
celery_logging.connect_signals(get_settings())  # before Celery sets its logging up

# Signal handlers: broker channels that outlive a Redis restart, broker errors and refused control
# commands told in one line, per-process resources, the readiness heartbeat, the stored-file
# sweep, the reconciler of work no task will run, the frozen start-up objects, what a stop logs of
# the task it interrupts, and a files worker's check that it sees the cluster's storage, and every
# worker's that Redis does not evict keys and that no live worker holds its name.
from workers import (  # noqa: E402
    broker_channel,
    broker_logs,
    context,
    control_logs,
    death_logs,
    expected_failures,
    gc_baseline,
    heartbeat,
    name_claim,
    reconciler,
    redis_check,
    stop_logs,
    storage_check,
)
from workers.files import sweeper  # noqa: E402

signals.worker_init.connect(_import_task_modules, weak=False)  # first: the freeze covers them
signals.worker_init.connect(_apply_queue_prefetch, weak=False)
signals.worker_init.connect(_watch_the_launcher, weak=False)
signals.celeryd_after_setup.connect(_warn_of_unknown_variables, weak=False)
broker_channel.connect_signals()
broker_logs.connect_signals(get_settings())
control_logs.connect_signals()
context.connect_signals()
heartbeat.connect_signals()
sweeper.connect_signals()
reconciler.connect_signals()
gc_baseline.connect_signals()
stop_logs.connect_signals()
death_logs.connect_signals()  # after stop_logs: a stop's losses are told as the stop's
expected_failures.connect_signals()
redis_check.connect_signals()  # before the storage check: a refused start writes nothing
name_claim.connect_signals()  # likewise
storage_check.connect_signals()
