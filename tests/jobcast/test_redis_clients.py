"""The one door to Redis behind Sentinel: every kind of client follows a failover to the new
primary, and Celery is given the sentinels, not a server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
import redis
from celery import Celery
from celery.app.backends import by_url
from celery.backends.redis import SentinelBackend
from kombu.exceptions import OperationalError

import celeryconfig
from jobcast import redis_clients
from jobcast.embedded_redis import free_port
from jobcast.redis_clients import is_redis_full, trouble
from jobcast.scripts import ScriptLane
from jobcast.settings import Settings
from tests.support.sentinel import RunningGroup, sentinel_group

T = TypeVar("T")


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def group(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGroup]:
    with sentinel_group(tmp_path_factory.mktemp("sentinel")) as running:
        yield running


def test_sentinels_are_read_as_host_port_pairs_and_a_bad_one_is_named() -> None:
    settings = make(redis_sentinels="10.0.0.1:26379, s2:26380")
    assert settings.sentinels == [("10.0.0.1", 26379), ("s2", 26380)]
    with pytest.raises(ValueError, match="'s3' is not host:port"):
        make(redis_sentinels="s1:1,s3")


def test_celery_is_given_every_sentinel_and_the_primarys_name_and_passwords() -> None:
    settings = make(
        redis_sentinels="s1:26379,s2:26379",
        redis_sentinel_master="main",
        redis_password="p/w",
        redis_sentinel_password="sp",
    )
    config = celeryconfig.config_for(settings)
    url = "sentinel://:p%2Fw@s1:26379/0;sentinel://:p%2Fw@s2:26379/0"
    backend, backend_url = by_url(config["result_backend"])
    assert config["broker_url"] == backend_url == url
    assert issubclass(backend, SentinelBackend)
    for options in (
        config["broker_transport_options"],
        config["result_backend_transport_options"],
    ):
        assert options["master_name"] == "main"
        assert options["sentinel_kwargs"]["password"] == "sp"
        assert options["visibility_timeout"] == settings.visibility_timeout


def test_without_sentinels_celery_gets_the_url_alone() -> None:
    config = celeryconfig.config_for(make(redis_url="redis://h:1/2"))
    assert config["broker_url"] == "redis://h:1/2"
    assert "master_name" not in config["broker_transport_options"]


def retry(call: Callable[[], T], timeout: float = 30) -> T:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except (redis.RedisError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


async def aretry(call: Callable[[], Awaitable[T]]) -> T:
    deadline = time.monotonic() + 30
    while True:
        try:
            return await call()
        except (redis.RedisError, OSError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


def test_every_kind_of_client_writes_to_the_new_primary_after_a_failover(
    group: RunningGroup, tmp_path: Path
) -> None:
    settings = group.settings(tmp_path)
    sync = redis_clients.sync_client(settings, timeout=2, connect_timeout=1)
    sync.set("before", "1")
    sync.hset("record", "owner", "p_1")
    spend_read = (["rl:lane", "record"], ["0.001", "1000000", "1"])

    async def run() -> None:
        single = redis_clients.async_client(settings)
        pooled = redis_clients.async_pool_client(settings, max_connections=2, wait_seconds=1)
        lane = ScriptLane(pooled, 1)  # the api's hot reads: connections of its own
        await single.set("single", "1")
        await pooled.set("pooled", "1")
        assert (await lane.run("rate_spend_read", *spend_read))[-1] == '{"owner":"p_1"}'
        group.kill_primary()
        await aretry(lambda: single.set("single", "2"))
        await aretry(lambda: pooled.set("pooled", "2"))
        after = await aretry(lambda: lane.run("rate_spend_read", *spend_read))
        assert after[-1] == '{"owner":"p_1"}'  # read on the new primary
        assert await single.get("before") == "1"  # written before, replicated
        await lane.aclose()
        await single.aclose()
        await pooled.aclose()

    asyncio.run(run())
    retry(lambda: sync.set("after", "1"))
    role = sync.execute_command("ROLE")
    assert role[0] == "master"
    assert sync.connection_pool.get_master_address() == (  # type: ignore[attr-defined]
        group.servers.replica.host,
        group.servers.replica.port,
    )
    assert sync.get("single") == sync.get("pooled") == "2"
    sync.close()


def test_with_every_sentinel_gone_each_kind_of_client_gives_up_at_once() -> None:
    # redis-py retried each sentinel's connection 10 times, backing off up to 1 s: ~10 s a call
    # (23 s for Celery's connection), paid by each Redis call of an api's or worker's shutdown.
    gone = ",".join(f"127.0.0.1:{free_port()}" for _ in range(3))
    settings = make(redis_sentinels=gone, redis_password="pw", redis_sentinel_password="pw")
    celery = Celery("gone")
    celery.config_from_object(celeryconfig.config_for(settings))

    async def each_async_client() -> None:
        for client in (
            redis_clients.async_client(settings),
            redis_clients.async_pool_client(settings, max_connections=1, wait_seconds=1),
        ):
            with given_up_at_once(redis.ConnectionError):
                await client.ping()
            await client.aclose()

    asyncio.run(each_async_client())
    sync = redis_clients.sync_client(settings)
    with given_up_at_once(redis.ConnectionError):
        sync.ping()
    sync.close()
    with celery.connection_for_write() as broker, given_up_at_once(OperationalError):
        broker.ensure_connection(max_retries=1)


@contextmanager
def given_up_at_once(error: type[Exception]) -> Iterator[None]:
    """The block raises `error` saying no primary was found, within 2 s."""
    started = time.monotonic()
    with pytest.raises(error, match="No master found"):
        yield
    assert time.monotonic() - started < 2


def test_a_full_redis_is_told_apart_from_an_outage() -> None:
    plain = redis.OutOfMemoryError("command not allowed when used memory > 'maxmemory'.")
    in_script = redis.ResponseError(
        "Error in script: OOM command not allowed when used memory > 'maxmemory'."
    )
    down = redis.ConnectionError("Connection refused.")
    assert is_redis_full(plain)
    assert is_redis_full(in_script)
    assert not is_redis_full(down)
    assert "full" in trouble(plain)
    assert trouble(down) == "Redis is unavailable; retry shortly."
