"""When a wait polls again, and which errors end it (pure rules)."""

from __future__ import annotations

from jobcast.client import errors
from jobcast.client.waiting import MAX_POLL_PAUSE, POLL_INTERVAL, heals, poll_pause


def test_polls_come_at_the_interval_then_back_off_to_a_cap_while_the_api_is_away() -> None:
    assert poll_pause(0) == POLL_INTERVAL
    pauses = [poll_pause(failures) for failures in range(1, 12)]
    assert pauses == sorted(pauses)
    assert pauses[0] > POLL_INTERVAL
    assert pauses[-1] == MAX_POLL_PAUSE


def test_an_api_away_busy_or_failing_heals_a_refusal_does_not() -> None:
    assert heals(errors.UnavailableError("unreachable", "Nothing answers"))
    assert heals(errors.UnavailableError("redis_unavailable", "", status=503))
    assert heals(errors.RateLimitedError("rate_limited", "", status=429))
    assert heals(errors.ServerError("http_502", "", status=502))
    assert not heals(errors.UnavailableError("not_tls", "answered, but not over TLS"))
    for family, status in (
        (errors.AuthenticationError, 401),
        (errors.PermissionDeniedError, 403),
        (errors.NotFoundError, 404),
        (errors.GoneError, 410),
    ):
        assert not heals(family("refused", "", status=status))
