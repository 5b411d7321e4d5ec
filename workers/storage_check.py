"""A `files` worker starts only on the storage the cluster shares (`jobcast.shared_storage`).

Checked in the main process before the pool starts: a worker on a directory of its own would
take jobs whose uploads it cannot see and fail them as `upload_missing`. It exits instead,
saying which directory and what to do. With Redis away (or loading its data, as when a host
reboots and every service starts at once) the worker waits for it here, before it consumes:
skipped, the check never ran, and the worker took jobs once Redis answered.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import redis
from celery import signals

from celeryconfig import FILES_QUEUE
from jobcast import shared_storage
from jobcast.redis_clients import redis_problem, sync_client
from jobcast.settings import get_settings

log = logging.getLogger("jobcast.worker")


#: Seconds between two tries while Redis is away: the broker is the same Redis, so the
#: worker could take no job meanwhile anyway.
RETRY_SECONDS = 1.0


def _on_worker_init(sender: Any, **_: Any) -> None:
    if FILES_QUEUE not in sender.app.amqp.queues.consume_from:
        return
    settings = get_settings()
    client = sync_client(settings)
    try:
        _check_once_redis_answers(client, settings.data_dir)
    except shared_storage.StorageMismatchError as exc:
        log.critical("%s", exc)
        raise SystemExit(1) from None  # not Exception: Celery's signal dispatch would log it on
    finally:
        client.close()


def _check_once_redis_answers(client: redis.Redis, data_dir: Path) -> None:
    told = False
    while True:
        try:
            shared_storage.check(client, data_dir)
            return
        except redis.RedisError as exc:
            if not told:  # one line for the whole wait, not one per try
                log.warning(
                    "could not compare the data directory with the cluster's storage: %s; "
                    "waiting for Redis to compare it before taking a job",
                    redis_problem(exc, where=True),
                )
                told = True
        time.sleep(RETRY_SECONDS)


def connect_signals() -> None:
    signals.worker_init.connect(_on_worker_init, weak=False)
