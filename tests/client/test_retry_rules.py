"""When the client sends a request again (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from jobcast.client.retry import RetryPolicy, may_retry_status, parse_retry_after


def test_429_and_408_are_always_retried_and_503_only_when_repeatable() -> None:
    assert may_retry_status(429, repeatable=False)
    assert may_retry_status(408, repeatable=False)  # upload_stalled: nothing was kept
    assert may_retry_status(503, repeatable=True)
    assert not may_retry_status(503, repeatable=False)
    assert not may_retry_status(500, repeatable=True)


def test_retry_after_in_seconds_or_as_a_date_is_obeyed_up_to_the_cap() -> None:
    policy = RetryPolicy(max_wait=10)
    assert policy.delay(0, "2") == 2
    assert policy.delay(0, "120") == 10
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    assert 3 < (parse_retry_after(later) or 0) <= 5
    assert parse_retry_after("soon") is None


def test_backoff_doubles_with_jitter_without_retry_after() -> None:
    policy = RetryPolicy(backoff=1.0, max_wait=100)
    assert 0.5 <= policy.delay(0, None) <= 1.0
    assert 4.0 <= policy.delay(3, None) <= 8.0
