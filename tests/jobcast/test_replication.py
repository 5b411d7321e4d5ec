"""`ReplicaCheck` against real Redis servers: a primary alone, then with a replica attached,
live and then stopped (connected but silent, as a lagging replica is). Each test runs twice:
as a worker asks (redis-py) and as the api asks (redis.asyncio)."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis

from jobcast.embedded_redis import EmbeddedRedis, free_port
from jobcast.replication import ALONE_RECHECK_SECONDS, ReplicaCheck
from tests.support.processes import wait_for
from tests.support.stack import start_embedded

TIMEOUT_MS = 100


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def primary(tmp_path: Path) -> Iterator[tuple[EmbeddedRedis, redis.Redis]]:
    server, proc = start_embedded(tmp_path / "primary", secrets.token_urlsafe(12))
    client = redis.Redis.from_url(server.url)
    yield server, client
    client.close()
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def replica(
    tmp_path: Path, primary: tuple[EmbeddedRedis, redis.Redis]
) -> Iterator[subprocess.Popen[bytes]]:
    server, client = primary
    replica_server, proc = start_embedded(tmp_path / "replica", server.password)
    replica_client = redis.Redis.from_url(replica_server.url)
    replica_client.config_set("masterauth", server.password)
    replica_client.replicaof(server.host, server.port)
    wait_for(lambda: len(client.role()[2]) == 1, 10, "the replica to attach")
    replica_client.close()
    yield proc
    os.kill(proc.pid, signal.SIGCONT)
    proc.terminate()
    proc.wait(timeout=10)


Ask = Callable[[ReplicaCheck], bool]


@pytest.fixture(params=["sync", "async"])
def ask(request: pytest.FixtureRequest, primary: tuple[EmbeddedRedis, redis.Redis]) -> Ask:
    """`check.written_through` on a client of the primary, of the kind the test runs with."""
    server, client = primary
    if request.param == "sync":
        return lambda check: check.written_through(client)
    return lambda check: asyncio.run(asked_async(check, server.url))


async def asked_async(check: ReplicaCheck, url: str) -> bool:
    client = aioredis.Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        return await check.written_through_async(client)
    finally:
        await client.aclose()


def waits_sent(client: redis.Redis) -> int:
    return int(client.info("commandstats").get("cmdstat_wait", {}).get("calls", 0))


def test_without_sentinel_nothing_is_asked(
    primary: tuple[EmbeddedRedis, redis.Redis], ask: Ask
) -> None:
    _, client = primary
    assert ask(ReplicaCheck(False, TIMEOUT_MS))
    assert waits_sent(client) == 0


def test_a_primary_alone_has_nothing_to_lose_and_is_asked_again_only_later(
    primary: tuple[EmbeddedRedis, redis.Redis], ask: Ask
) -> None:
    _, client = primary
    clock = Clock()
    check = ReplicaCheck(True, TIMEOUT_MS, clock)
    assert ask(check)
    assert ask(check)  # within the recheck: no WAIT, no timeout waited
    assert waits_sent(client) == 1
    clock.now += ALONE_RECHECK_SECONDS
    assert ask(check)
    assert waits_sent(client) == 2


def test_a_live_replica_confirms_what_was_written(
    primary: tuple[EmbeddedRedis, redis.Redis], replica: subprocess.Popen[bytes], ask: Ask
) -> None:
    _, client = primary
    client.set("committed", "1")
    assert ask(ReplicaCheck(True, 5000))


def test_a_silent_replica_confirms_nothing(
    primary: tuple[EmbeddedRedis, redis.Redis], replica: subprocess.Popen[bytes], ask: Ask
) -> None:
    _, client = primary
    check = ReplicaCheck(True, TIMEOUT_MS)
    assert ask(check)  # attached and acknowledging
    os.kill(replica.pid, signal.SIGSTOP)
    client.set("committed", "1")
    assert not ask(check)
    assert not ask(check)  # still connected: never taken for alone
    os.kill(replica.pid, signal.SIGCONT)
    wait_for(lambda: ask(check), 10, "the replica to catch up")


def test_redis_away_confirms_nothing() -> None:
    url = f"redis://127.0.0.1:{free_port()}"
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    assert not ReplicaCheck(True, TIMEOUT_MS).written_through(client)
    assert not asyncio.run(asked_async(ReplicaCheck(True, TIMEOUT_MS), url))
