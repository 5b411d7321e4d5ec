"""Keep a worker alive when Redis (the broker) dies while it holds messages.

On a broker connection loss Celery collects the old connection, then closes it. kombu's Redis
channel drains a BRPOP in flight before it closes (kombu #1733); with Redis gone that read
fails, so the first close stops before the channel is marked closed. By the second close the
transport has let go of its connection settings, and the channel, reopening a connection pool
to put its unacknowledged messages back, reads them from `None`: an AttributeError, which
Celery does not take for a connection error, so the whole worker exits ("Unrecoverable error").
A task acked late on such a channel fails the same way once it finishes. Seen in the soak
(`bench/soak.py --only redis_kill`): an `orders` worker holding a matching message when Redis
was killed exited, and with both gone the probe's order waited for a restart.

A channel here remembers the connection settings it was opened with, so those late calls reach
Redis again: they succeed once it is back, or fail with a connection error Celery handles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import signals
from kombu.transport import redis as kombu_redis

_opened_with: Callable[..., dict[str, Any]] = kombu_redis.Channel._connparams


def _remembered_connparams(self: kombu_redis.Channel, asynchronous: bool = False) -> Any:
    remembered: dict[bool, dict[str, Any]] = self.__dict__.setdefault("_jobcast_connparams", {})
    if self.connection.client is None and asynchronous in remembered:
        return dict(remembered[asynchronous])  # the transport was closed under the channel
    params = _opened_with(self, asynchronous=asynchronous)
    remembered[asynchronous] = dict(params)
    return params


def remember_connection_settings(**_: Any) -> None:
    """Make kombu's Redis channels (Sentinel's too, a subclass) keep their settings."""
    kombu_redis.Channel._connparams = _remembered_connparams  # type: ignore[method-assign]


def connect_signals() -> None:
    signals.worker_init.connect(remember_connection_settings, weak=False)
