"""A Redis URL refused with the reason, and shown without its password."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from jobcast.redis_url import masked_url, redis_url_problem
from jobcast.settings import Settings


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("127.0.0.1:26437", "not a Redis URL"),
        ("notaurl", "not a Redis URL"),
        ("http://h:6379/0", "not a Redis URL"),
        ("unix:///run/redis.sock", "a unix socket is not supported"),
        ("redis://:pw@/0", "names no host"),
        ("redis://h:abc/0", "its port is not a number"),
        ("redis://h:0/0", "its port is not a number"),
        ("redis://h:70000", "its port is not a number"),
        ("redis://:pw@h:26437/x", "its database ('x', after the host) is not a number"),
    ],
)
def test_a_url_redis_cannot_use_is_refused_with_its_reason(url: str, problem: str) -> None:
    assert (redis_url_problem(url) or "").startswith(problem)


@pytest.mark.parametrize(
    "url", ["redis://h", "redis://h:6379", "redis://:pw@h:6379/3", "rediss://u:pw@h:1/0"]
)
def test_a_usable_url_is_accepted(url: str) -> None:
    assert redis_url_problem(url) is None
    assert Settings(_env_file=None, redis_url=url).redis_url == url  # type: ignore[call-arg]


def test_a_refused_url_is_named_without_its_password() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, redis_url="redis://:s3cret@h:26437/x")  # type: ignore[call-arg]
    assert "s3cret" not in str(refused.value.errors(include_input=False))


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@h:1/0", "redis://:***@h:1/0"),
        ("rediss://user:s3cret@h:1/0", "rediss://user:***@h:1/0"),
        ("redis://h:1/0?password=s3cret&db=2", "redis://h:1/0?password=***&db=2"),
        ("redis://h:1/0", "redis://h:1/0"),
        ("notaurl", "notaurl"),
    ],
)
def test_a_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert masked_url(url) == shown
