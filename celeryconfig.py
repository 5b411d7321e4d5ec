"""Every Celery setting of every Jobcast process: workers, Flower and the api (which only sends).

All values come from `jobcast.settings.Settings`; `config_for` turns one into Celery's names.
`celery -A workers.app` reads them through `workers.app`, so a worker started by hand, by
`jobcast up` or by the compose file behaves the same: none of them passes a setting of its own
on the command line but the queues (`-Q`) and the pool size (`--concurrency`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kombu.entity import Queue

from jobcast.celery_result_store import backend_for
from jobcast.celery_transport import transport_for
from jobcast.redis_clients import celery_transport_options
from jobcast.settings import Settings

#: The queues and what runs on them. `files` jobs are long and memory-heavy; `orders` are short.
FILES_QUEUE = "files"
ORDERS_QUEUE = "orders"
QUEUES = (FILES_QUEUE, ORDERS_QUEUE)

#: Tasks a worker process reserves per queue. One file job at a time: a second one prefetched
#: would wait behind a long job while another worker sits idle. Matching steps are short, so a
#: few in hand keep the pool busy between broker round trips.
QUEUE_PREFETCH = {FILES_QUEUE: 1, ORDERS_QUEUE: 8}


def prefetch_for(queues: Iterable[str]) -> int:
    """Prefetch multiplier of a worker consuming `queues`: the smallest of theirs.

    A worker that also consumes `files` keeps the files' one, so no file job waits reserved.
    """
    return min((QUEUE_PREFETCH.get(queue, 1) for queue in queues), default=1)


def _queue(name: str) -> Queue:
    """The queue `name`, on a direct exchange of its own name, routed by its name."""
    return Queue(name, name, routing_key=name)  # type: ignore[no-untyped-call]


def config_for(settings: Settings) -> dict[str, Any]:
    """Celery configuration derived from Jobcast settings."""
    url = settings.broker_url
    # The broker and the result backend must agree on the visibility timeout, and it must be
    # longer than the hard time limit: past it Redis hands an unacked task to another worker.
    transport = {
        "visibility_timeout": settings.visibility_timeout,
        **celery_transport_options(settings),  # behind Sentinel: the primary's name
    }
    return {
        "broker_url": url,
        # kombu's Redis transport, making one client per channel, not one per command.
        "broker_transport": transport_for(bool(settings.sentinels)),
        # Celery's Redis backend, storing a result in one round trip instead of two.
        "result_backend": backend_for(url, bool(settings.sentinels)),
        "broker_transport_options": transport,
        "result_backend_transport_options": transport,
        # A lost broker (the stack's Redis stopped, a failover) is retried for as long as it
        # takes, at first start too: Celery's default gave up after 100 attempts (~45 min) and
        # ended the worker, which nothing restarts when it was started by hand. None is kombu's
        # "no limit"; 0 would mean no retry at all.
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        # A command Redis refuses (maxmemory reached: OutOfMemoryError, a channel error to
        # kombu) is retried as a lost connection is, not an "Unrecoverable error" that ends
        # the worker, and with it `jobcast up`'s whole stack.
        "broker_channel_error_retry": True,
        # A task running when the broker connection is lost runs on and is acked on its old
        # channel once Redis is back (workers.broker_channel); cancelling it would throw a file
        # job's work away. Celery's warning that such tasks "cannot be acknowledged" is not
        # true here and is silenced (workers.broker_logs).
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        # JSON only: a pickled message could run arbitrary code in a worker, so it is refused.
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_serializer": "json",
        "result_serializer": "json",
        "event_serializer": "json",
        # A task is acked when it finishes, and requeued if its process dies; our own attempt
        # cap (workers.attempts) stops a task that kills its worker from looping forever.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_routes": {
            "jobcast.files.*": {"queue": FILES_QUEUE},
            "jobcast.orders.*": {"queue": ORDERS_QUEUE},
            "jobcast.demo.*": {"queue": ORDERS_QUEUE},  # the demo's matching, under its own name
        },
        # Declared (as Celery would make them when routed), so a worker started without `-Q`
        # consumes both queues, not the default one alone. As `Queue`s, not a dict of their
        # options: Flower, which knows no worker yet, reads the names of its queues from here.
        "task_queues": [_queue(name) for name in QUEUES],
        "task_default_queue": ORDERS_QUEUE,
        # The safe value until the worker knows its queues; workers.app then applies
        # `prefetch_for` (Celery itself has no per-queue prefetch).
        "worker_prefetch_multiplier": QUEUE_PREFETCH[FILES_QUEUE],
        # Celery's prefork pool, replacing a process killed from outside (and handing its task
        # back) at once instead of on a 5-second timer (workers.pool).
        "worker_pool": "workers.pool:TaskPool",
        # Backstop of the memory watchdog: a pool process left above the budget after a task
        # (memory a library kept) is replaced before the next one (Celery counts KiB).
        "worker_max_memory_per_child": settings.job_memory_budget // 1024,
        "task_soft_time_limit": settings.job_soft_time_limit,
        "task_time_limit": settings.job_time_limit,
        "result_expires": settings.result_expires,
        # No STARTED result: storing it cost each task two round trips before it ran (Celery
        # reads the stored state, then writes and publishes the new one). A job's record says
        # `running`; Flower learns of the start from the task-started event, sent all the same.
        "task_track_started": False,
        # Events for Flower.
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        # Workers publish those events in batches a few milliseconds apart (not one by one).
        "worker_consumer": "workers.event_batches:Consumer",
        "worker_hijack_root_logger": False,
        "enable_utc": True,
        "timezone": "UTC",
    }
