"""Every worker refuses a Redis that evicts keys (`jobcast.redis_durability`): it would lose the
queued tasks it takes and the job records it writes without a word. Checked in the main process
before the pool starts, as `workers.storage_check` is; with Redis away it is not checked (the
worker can take nothing then, and `/readyz` reports the policy once Redis answers)."""

from __future__ import annotations

import logging
from typing import Any

import redis
from celery import signals

from jobcast import redis_durability
from jobcast.redis_clients import redis_problem, sync_client
from jobcast.settings import get_settings

log = logging.getLogger("jobcast.worker")


def _on_worker_init(**_: Any) -> None:
    settings = get_settings()
    client = sync_client(settings)
    try:
        found = redis_durability.read(client)
        warnings = redis_durability.required(found, settings.redis_eviction_accepted)
    except redis.RedisError as exc:
        log.warning("could not check how Redis keeps data: %s", redis_problem(exc, where=True))
        return
    except redis_durability.EvictionPolicyError as exc:
        log.critical("%s", exc)
        raise SystemExit(1) from None  # not Exception: Celery's signal dispatch would log it on
    finally:
        client.close()
    for warning in warnings:
        log.warning("%s", warning)


def connect_signals() -> None:
    signals.worker_init.connect(_on_worker_init, weak=False)
