"""Every worker refuses a Redis that evicts keys (`jobcast.redis_durability`): it would lose the
queued tasks it takes and the job records it writes without a word. Checked in the main process
before the pool starts, as `workers.storage_check` is; with Redis away it is not checked (the
worker can take nothing then, and `/readyz` reports the policy once Redis answers). A Redis that
answers but refuses the worker's password ends the start (`jobcast.redis_credentials`)."""

from __future__ import annotations

import logging
from typing import Any

import redis
from celery import signals

from jobcast import redis_durability
from jobcast.redis_clients import redis_problem, sync_client
from jobcast.redis_credentials import EXIT_CREDENTIALS_REFUSED, credentials_refusal
from jobcast.settings import Settings, get_settings

log = logging.getLogger("jobcast.worker")


def _on_worker_init(**_: Any) -> None:
    settings = get_settings()
    client = sync_client(settings)
    try:
        found = redis_durability.read(client)
        warnings = redis_durability.required(found, settings.redis_eviction_accepted)
    except redis.RedisError as exc:
        _exit_if_credentials_refused(settings, exc)
        log.warning("could not check how Redis keeps data: %s", redis_problem(exc, where=True))
        return
    except redis_durability.EvictionPolicyError as exc:
        log.critical("%s", exc)
        raise SystemExit(1) from None  # not Exception: Celery's signal dispatch would log it on
    finally:
        client.close()
    for warning in warnings:
        log.warning("%s", warning)


def _exit_if_credentials_refused(settings: Settings, exc: redis.RedisError) -> None:
    # The first of the worker's start checks to meet Redis: a refused password ends the start
    # here, before the name claim and the broker retry it for ever as an outage.
    refusal = credentials_refusal(settings, exc)
    if refusal is not None:
        log.critical("%s", refusal)
        raise SystemExit(EXIT_CREDENTIALS_REFUSED) from None


def connect_signals() -> None:
    signals.worker_init.connect(_on_worker_init, weak=False)
