"""A Redis that answers but refuses the password ends every process as it starts, in one line
naming the variable (the password masked), exit 4; a Redis away is still waited for."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from jobcast.embedded_redis import free_port
from jobcast.redis_credentials import (
    EXIT_CREDENTIALS_REFUSED,
    CredentialsRefusedError,
    credentials_refusal,
    require_accepted_credentials,
)
from jobcast.settings import Settings
from tests.support.processes import REPO_ROOT, api_argv, process_env, worker_argv
from tests.support.stack import start_private_redis

ARGVS = {
    "api": lambda: api_argv(free_port()),
    "worker": lambda: worker_argv("orders", 1, [], "wrongpass"),
    "up": lambda: [
        sys.executable, "-m", "jobcast", "up", "--no-dev",
        "--api-port", str(free_port()), "--flower-port", str(free_port()),
    ],
    "keys": lambda: [sys.executable, "-m", "jobcast", "keys", "create", "--name", "q"],
}  # fmt: skip

#: How each tells its refusal: a server in its log's format, a command as its error.
SAID_AS = {
    "api": " CRITICAL jobcast.api: ",
    "worker": ": CRITICAL/MainProcess] ",
    "up": "jobcast error: ",
    "keys": "jobcast error: ",
}


def with_password(settings: Settings, password: str | None) -> Settings:
    """`settings` whose URL carries `password` (None: none at all)."""
    parts = urlsplit(settings.broker_url)
    auth = f":{password}@" if password is not None else ""
    url = parts._replace(netloc=f"{auth}{parts.hostname}:{parts.port}").geturl()
    return settings.replace(redis_url=url)


@pytest.fixture
def passworded(tmp_path: Path) -> Iterator[Settings]:
    """Settings of a Redis of the test's own, whose password it knows (the session's may be an
    external one, named by JOBCAST_TEST_REDIS_URL, with a password of its own or none)."""
    _, proc, own = start_private_redis(tmp_path / "own")
    try:
        yield own
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("part", ["api", "worker", "up", "keys"])
def test_a_wrong_redis_password_ends_the_start_in_one_line(
    part: str, passworded: Settings, tmp_path: Path
) -> None:
    """The api answered 503 for ever and a worker retried for ever, logging the refusal as an
    outage (the worker's first lines bare on stderr); `jobcast up` called it unreachable."""
    wrong = with_password(passworded, "not-the-password")
    env = process_env(wrong, {"JOBCAST_DEV": "0", "JOBCAST_DATA_DIR": str(tmp_path / "data")})
    ended = subprocess.run(
        ARGVS[part](), cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    output = ended.stdout + ended.stderr
    assert ended.returncode == EXIT_CREDENTIALS_REFUSED, output
    assert "Traceback" not in output
    assert "not-the-password" not in output
    refusals = [line for line in output.splitlines() if "Redis refused the credentials" in line]
    assert len(refusals) == 1, output
    assert SAID_AS[part] in refusals[0]  # a worker's had no time or level either
    assert "in JOBCAST_REDIS_URL (redis://:***@127.0.0.1:" in refusals[0]
    assert "invalid username-password pair" in refusals[0]
    assert "could not claim the worker name" not in output


def test_a_url_without_the_password_redis_needs_is_refused(passworded: Settings) -> None:
    said = r"JOBCAST_REDIS_URL \(redis://127.0.0.1:\d+/\d+\): it needs a password, none is given"
    with pytest.raises(CredentialsRefusedError, match=said):
        require_accepted_credentials(with_password(passworded, None))


def test_the_right_password_and_a_redis_away_pass(settings: Settings) -> None:
    require_accepted_credentials(settings)
    away = settings.replace(redis_url=f"redis://:pw@127.0.0.1:{free_port()}/0")
    require_accepted_credentials(away)  # an outage: the caller waits or refuses on its own


def test_only_a_refused_password_is_a_refusal(settings: Settings) -> None:
    assert credentials_refusal(settings, redis.ConnectionError("refused")) is None
    wrapped = RuntimeError("kombu's own")
    wrapped.__cause__ = redis.AuthenticationError("invalid password")
    assert credentials_refusal(settings, wrapped) is not None
    sentinels = settings.replace(redis_sentinels="s1:26379")
    refusal = credentials_refusal(sentinels, redis.AuthenticationError("invalid password"))
    assert "JOBCAST_REDIS_PASSWORD" in str(refusal)
