"""When a wait polls again, and which errors end it (pure rules)."""

from __future__ import annotations

import asyncio
import time

from jobcast.client import errors
from jobcast.client.waiting import (
    MAX_POLL_PAUSE,
    POLL_INTERVAL,
    Reach,
    _answered,
    heals,
    poll_pause,
    throttled_pause,
)


def test_polls_come_at_the_interval_then_back_off_to_a_cap_while_the_api_is_away() -> None:
    assert poll_pause(0) == POLL_INTERVAL
    pauses = [poll_pause(failures) for failures in range(1, 12)]
    assert pauses == sorted(pauses)
    assert pauses[0] > POLL_INTERVAL
    assert pauses[-1] == MAX_POLL_PAUSE


def test_an_api_away_or_failing_heals_a_refusal_does_not() -> None:
    assert heals(errors.UnavailableError("unreachable", "Nothing answers"))
    assert heals(errors.UnavailableError("redis_unavailable", "", status=503))
    assert heals(errors.ServerError("http_502", "", status=502))
    assert not heals(errors.UnavailableError("not_tls", "answered, but not over TLS"))
    for family, status in (
        (errors.AuthenticationError, 401),
        (errors.PermissionDeniedError, 403),
        (errors.NotFoundError, 404),
        (errors.GoneError, 410),
    ):
        assert not heals(family("refused", "", status=status))


def _limited(retry_after: object) -> errors.RateLimitedError:
    return errors.RateLimitedError("rate_limited", "", {"retry_after": retry_after}, status=429)


def test_a_throttled_wait_asks_again_when_the_429_says_within_the_poll_bounds() -> None:
    assert throttled_pause(_limited(2)) == 2.0
    assert throttled_pause(_limited(0)) == POLL_INTERVAL
    assert throttled_pause(_limited(3600)) == MAX_POLL_PAUSE
    assert throttled_pause(_limited("soon")) == POLL_INTERVAL


def test_a_429_while_waiting_is_not_told_as_the_api_going_away() -> None:
    told: list[bool] = []
    answers: list[object] = [_limited(0), "job"]

    async def ask() -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert asyncio.run(_answered(ask, Reach(told.append))) == "job"
    assert told == []


def test_a_429_while_waiting_is_waited_out_then_asked_again() -> None:
    # A 429 is the api answering "busy", not failing: the wait pauses as long as it asks
    # (here less than the poll interval, so that interval), then asks again.
    asked: list[float] = []
    answers: list[object] = [_limited(0.1), "job"]

    async def ask() -> object:
        asked.append(time.monotonic())
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert asyncio.run(_answered(ask, Reach(None))) == "job"
    assert asked[1] - asked[0] >= POLL_INTERVAL
