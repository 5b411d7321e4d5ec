"""Riding out a Redis that is away for a few seconds (a restart, a Sentinel failover: ~10 s):
sending a task's retry, and committing a finished job's outcome.

Celery's `Task.retry` publishes with its default policy (three tries within a second) and, when
that fails, rejects the delivery without requeue: the work then waits minutes for the
reconciler. Here the publish is tried again, with pauses, for as long as a failover lasts. A
job whose work is done but whose outcome could not be written was likewise left to the
reconciler, which ran the whole job again: `patiently` tries the write again instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import redis
from celery.exceptions import Reject, Retry
from kombu.exceptions import OperationalError

#: Seconds a task keeps trying to send its retry while the broker is unreachable: longer than a
#: Sentinel failover or a quick Redis restart, short enough not to hold a pool process long.
SEND_PATIENCE_SECONDS = 30.0
#: First pause between two tries; doubled after each, up to `MOST_PAUSE_SECONDS`.
FIRST_PAUSE_SECONDS = 0.25
MOST_PAUSE_SECONDS = 2.0

T = TypeVar("T")


def pauses(first: float = FIRST_PAUSE_SECONDS, most: float = MOST_PAUSE_SECONDS) -> Iterator[float]:
    """The pauses between tries: `first`, doubled each time, never more than `most`."""
    pause = first
    while True:
        yield pause
        pause = min(pause * 2, most)


def unreachable(error: BaseException | None) -> bool:
    """Whether a failed publish failed for want of the broker (worth trying again)."""
    return isinstance(error, (OperationalError, redis.ConnectionError, redis.TimeoutError, OSError))


def within_patience(
    attempt: Callable[[], T],
    worth_again: Callable[[Exception], bool],
    patience: float = SEND_PATIENCE_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`attempt()`, tried again with `pauses()` after an error `worth_again` says may pass, for
    `patience` seconds at most; any other error, or the last one once the patience is spent,
    is raised."""
    deadline = clock() + patience
    for pause in pauses():
        try:
            return attempt()
        except Exception as error:
            if not worth_again(error) or clock() + pause > deadline:
                raise
        sleep(pause)
    raise AssertionError("unreachable: pauses() never ends")


def send_retry(
    task: Any,
    patience: float = SEND_PATIENCE_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    **options: Any,
) -> Retry | BaseException:
    """`task.retry(**options)`, tried again while the broker is unreachable, for `patience`
    seconds at most: the `Retry` to raise once sent, else the last reason it could not be."""

    def publish() -> Retry:
        sent: Retry = task.retry(throw=False, **options)
        return sent

    try:
        return within_patience(publish, broker_away, patience, clock, sleep)
    except Reject as rejected:  # Celery's wrapping of a failed publish
        if not unreachable(rejected.reason):
            raise
        return rejected.reason


def broker_away(error: Exception) -> bool:
    """Whether `error` is Celery's rejection of a publish the broker was unreachable for."""
    return isinstance(error, Reject) and unreachable(error.reason)


def patiently(
    write: Callable[[], T],
    patience: float = SEND_PATIENCE_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`write()`, tried again while Redis is unreachable, for `patience` seconds at most (then
    its last error is raised). Only for a write that a second try cannot apply twice: a commit
    that expects the state it changes (a try whose reply was lost finds it changed)."""
    return within_patience(write, redis_away, patience, clock, sleep)


def redis_away(error: Exception) -> bool:
    """Whether a write failed for want of Redis (worth trying again)."""
    return isinstance(error, (redis.ConnectionError, redis.TimeoutError))
