"""Celery settings for every Jobcast process: workers, Flower and the api (which only sends).

All values come from `jobcast.settings.Settings`; `config_for` turns one into Celery's names.
`celery -A workers.app` reads them through `workers.app`.
"""

from __future__ import annotations

from typing import Any

from jobcast.settings import Settings

#: The queues and what runs on them. `files` jobs are long and memory-heavy; `orders` are short.
FILES_QUEUE = "files"
ORDERS_QUEUE = "orders"
QUEUES = (FILES_QUEUE, ORDERS_QUEUE)


def config_for(settings: Settings) -> dict[str, Any]:
    """Celery configuration derived from Jobcast settings."""
    url = settings.broker_url
    # The broker and the result backend must agree on the visibility timeout, and it must be
    # longer than the hard time limit: past it Redis hands an unacked task to another worker.
    transport = {"visibility_timeout": settings.visibility_timeout}
    return {
        "broker_url": url,
        "result_backend": url,
        "broker_transport_options": transport,
        "result_backend_transport_options": transport,
        "broker_connection_retry_on_startup": True,
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
        "task_default_queue": ORDERS_QUEUE,
        # One file job at a time per process: prefetching a second would pin it behind a long one.
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": settings.job_soft_time_limit,
        "task_time_limit": settings.job_time_limit,
        "result_expires": settings.result_expires,
        "task_track_started": True,
        # Events for Flower.
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "worker_hijack_root_logger": False,
        "enable_utc": True,
        "timezone": "UTC",
    }
