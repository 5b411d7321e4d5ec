"""A `files` worker starts only on the storage the cluster shares (`jobcast.shared_storage`).

Checked in the main process before the pool starts: a worker on a directory of its own would
take jobs whose uploads it cannot see and fail them as `upload_missing`. It exits instead,
saying which directory and what to do. With Redis away the check waits for the first start it
can reach Redis at: the worker cannot take jobs then either.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from celery import signals

from celeryconfig import FILES_QUEUE
from jobcast import shared_storage
from jobcast.redis_clients import redis_problem, sync_client
from jobcast.settings import get_settings

log = logging.getLogger("jobcast.worker")


def _on_worker_init(sender: Any, **_: Any) -> None:
    if FILES_QUEUE not in sender.app.amqp.queues.consume_from:
        return
    settings = get_settings()
    client = sync_client(settings)
    try:
        shared_storage.check(client, settings.data_dir)
    except redis.RedisError as exc:
        log.warning(
            "could not compare the data directory with the cluster's storage: %s",
            redis_problem(exc, where=True),
        )
    except shared_storage.StorageMismatchError as exc:
        log.critical("%s", exc)
        raise SystemExit(1) from None  # not Exception: Celery's signal dispatch would log it on
    finally:
        client.close()


def connect_signals() -> None:
    signals.worker_init.connect(_on_worker_init, weak=False)
