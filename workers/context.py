"""Per-process worker resources, built when a pool process starts rather than at import time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis
from celery import signals

from jobcast.redis_clients import sync_client
from jobcast.replication import ReplicaCheck
from jobcast.settings import Settings, get_settings


@dataclass
class WorkerContext:
    settings: Settings
    redis: redis.Redis
    #: Asked before a worker deletes an upload its job's outcome made needless.
    replicas: ReplicaCheck


_context: WorkerContext | None = None


def build_context(settings: Settings) -> WorkerContext:
    return WorkerContext(
        settings=settings, redis=sync_client(settings), replicas=ReplicaCheck.of(settings)
    )


def worker_context() -> WorkerContext:
    """This process's context; built on first use for pools that send no process-init signal."""
    global _context
    if _context is None:
        _context = build_context(get_settings())
    return _context


def _on_process_init(**_: Any) -> None:
    global _context
    # A forked pool process must not share its parent's Redis sockets.
    _context = build_context(get_settings())


def connect_signals() -> None:
    signals.worker_process_init.connect(_on_process_init, weak=False)
