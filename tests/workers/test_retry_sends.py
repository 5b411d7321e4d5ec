"""Sending a retry while the broker is away: tried again with pauses, within a patience."""

from __future__ import annotations

from itertools import islice
from typing import Any

import pytest
import redis
from celery.exceptions import Reject, Retry
from kombu.exceptions import OperationalError

from workers.retry_sends import patiently, pauses, send_retry, unreachable, within_patience


class FlakyTask:
    """A task whose retry publish fails `failures` times (as Celery says it: Reject)."""

    def __init__(self, failures: int, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or OperationalError("Error 111 connecting to 127.0.0.1:6380.")
        self.calls: list[dict[str, Any]] = []

    def retry(self, **options: Any) -> Retry:
        self.calls.append(options)
        if len(self.calls) <= self.failures:
            raise Reject(self.error, requeue=False)
        return Retry("sent", when=options.get("countdown"))


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_pauses_double_up_to_their_most() -> None:
    assert list(islice(pauses(0.25, 2.0), 6)) == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


def test_a_broker_error_is_unreachable_and_a_bug_is_not() -> None:
    assert unreachable(OperationalError("Error 111"))
    assert unreachable(redis.ConnectionError("Error 111"))
    assert not unreachable(ValueError("bad argument"))
    assert not unreachable(None)


def test_a_retry_sent_at_once_is_tried_once_without_throwing() -> None:
    task, clock = FlakyTask(0), FakeClock()
    sent = send_retry(task, clock=clock, sleep=clock.sleep, countdown=2)
    assert isinstance(sent, Retry)
    assert task.calls == [{"throw": False, "countdown": 2}]
    assert clock.slept == []


def test_a_broker_back_within_the_patience_gets_the_retry() -> None:
    task, clock = FlakyTask(6), FakeClock()
    sent = send_retry(task, patience=30, clock=clock, sleep=clock.sleep, countdown=2)
    assert isinstance(sent, Retry)
    assert len(task.calls) == 7
    assert clock.slept == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


def test_a_broker_away_past_the_patience_gives_the_last_reason() -> None:
    task, clock = FlakyTask(1000), FakeClock()
    given_up = send_retry(task, patience=10, clock=clock, sleep=clock.sleep)
    assert given_up is task.error
    assert clock.now <= 10
    assert sum(clock.slept) + 2.0 > 10  # it waited as long as the next pause allowed


def test_a_publish_failing_for_another_reason_is_rejected_as_celery_does() -> None:
    task, clock = FlakyTask(1, ValueError("not serializable")), FakeClock()
    with pytest.raises(Reject):
        send_retry(task, clock=clock, sleep=clock.sleep)
    assert len(task.calls) == 1


def flaky_write(failures: int, error: Exception) -> tuple[list[int], Any]:
    """A write that fails `failures` times with `error`, then answers how often it was tried."""
    tries: list[int] = []

    def write() -> int:
        tries.append(1)
        if len(tries) <= failures:
            raise error
        return len(tries)

    return tries, write


def test_a_write_redis_answers_again_within_the_patience_is_made() -> None:
    # A finished job's commit that met a failover raised, and the reconciler ran the whole job
    # again minutes later.
    clock = FakeClock()
    _, write = flaky_write(3, redis.ConnectionError("Error 111 connecting to 127.0.0.1:6380."))
    assert patiently(write, patience=30, clock=clock, sleep=clock.sleep) == 4
    assert clock.slept == [0.25, 0.5, 1.0]


def test_a_write_redis_stays_away_for_past_the_patience_raises_its_last_error() -> None:
    clock = FakeClock()
    tries, write = flaky_write(1000, redis.TimeoutError("Timeout reading from socket"))
    with pytest.raises(redis.TimeoutError):
        patiently(write, patience=5, clock=clock, sleep=clock.sleep)
    assert clock.now <= 5
    assert len(tries) > 3


def test_a_write_failing_for_another_reason_is_not_tried_again() -> None:
    clock = FakeClock()
    tries, write = flaky_write(1, redis.ResponseError("WRONGTYPE"))
    with pytest.raises(redis.ResponseError):
        patiently(write, patience=30, clock=clock, sleep=clock.sleep)
    assert len(tries) == 1


def test_patience_tries_again_only_what_is_worth_it_and_raises_the_last_error() -> None:
    # The loop `send_retry` and `patiently` share: the caller says which errors are worth
    # another try; any other is raised at once, and the last one once the patience is spent.
    clock = FakeClock()
    away = redis.ConnectionError("Error 111")
    tries, write = flaky_write(2, away)
    assert within_patience(write, lambda e: e is away, 30, clock, clock.sleep) == 3
    assert clock.slept == [0.25, 0.5]

    tries, write = flaky_write(1000, away)
    with pytest.raises(redis.ConnectionError):
        within_patience(write, lambda e: e is away, 5, clock, clock.sleep)
    assert len(tries) > 3

    tries, write = flaky_write(1, away)
    with pytest.raises(redis.ConnectionError):
        within_patience(write, lambda e: False, 30, clock, clock.sleep)
    assert len(tries) == 1
