"""The embedded Redis servers `jobcast up` starts on ports free when it looked: one that
another program takes before the server binds it (an outgoing connection's ephemeral port, from
the same range) moves the server to another port instead of failing the start. Real servers;
the race is made certain by handing out a port that is held."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from jobcast import embedded_sentinel, launcher
from jobcast.embedded_redis import remember_port
from jobcast.launch_checks import port_refusal
from jobcast.launcher import Stack, UpOptions
from jobcast.settings import Settings
from tests.support.ports import port_held


def settings_for(tmp_path: Path, **changes: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        dev=True,
        data_dir=tmp_path / "var",
        redis_password="test-password",
        **changes,
    )


@pytest.fixture
def held_port() -> Iterator[int]:
    with port_held() as port:
        yield port


def first_call_gives(port: int, real: Callable[..., int]) -> Callable[..., int]:
    """`port_again` that answers `port` the first time (free when looked at, taken since)."""
    calls: list[int] = []

    def port_again(*args: object, **kwargs: object) -> int:
        calls.append(1)
        return port if len(calls) == 1 else real(*args, **kwargs)

    return port_again


def test_the_embedded_redis_moves_to_another_port_when_its_own_was_taken_as_it_started(
    tmp_path: Path,
    held_port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(launcher, "port_again", first_call_gives(held_port, launcher.port_again))
    stack = Stack(settings_for(tmp_path), UpOptions())
    try:
        started = stack.start_redis()
        assert started.redis_url is not None
        assert f":{held_port}/" not in started.redis_url
        client = redis.Redis.from_url(started.redis_url)
        assert client.ping()
        client.close()
    finally:
        stack.supervisor.stop_all()
    said = capsys.readouterr().out
    assert f"another program took 127.0.0.1:{held_port} as redis started on it" in said


def test_a_chosen_redis_port_taken_as_it_starts_is_refused_not_moved(
    tmp_path: Path, held_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(launcher, "port_again", first_call_gives(held_port, launcher.port_again))
    stack = Stack(settings_for(tmp_path, redis_port=held_port), UpOptions())
    try:
        with pytest.raises(launcher.ChildDiedError) as died:
            stack.start_redis()
    finally:
        stack.supervisor.stop_all()
    assert f"cannot listen on 127.0.0.1:{held_port} (redis)" in str(died.value)


def test_the_ha_group_moves_the_server_whose_port_was_taken_as_it_started(
    tmp_path: Path,
    held_port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A fresh clone's `--ha` test failed so on a loaded machine: "redis-primary exited with
    # code 1", then "not ready after 60s" of all five.
    real = embedded_sentinel.port_again
    monkeypatch.setattr(embedded_sentinel, "port_again", first_call_gives(held_port, real))
    stack = Stack(settings_for(tmp_path), UpOptions(ha=True))
    try:
        started = stack.start_sentinel_group()
        assert started.sentinels
        host, port = started.sentinels[0]
        asked = redis.Redis(host=host, port=port, password="test-password")
        _, primary = asked.sentinel_get_master_addr_by_name(started.redis_sentinel_master)
        asked.close()
        assert int(primary) != held_port
    finally:
        stack.supervisor.stop_all()
    said = capsys.readouterr().out
    assert f"another program took 127.0.0.1:{held_port} as redis-primary started on it" in said


def test_an_ha_servers_port_refusal_names_no_setting_it_does_not_have() -> None:
    # It named a port setting and a `jobcast up` flag for redis-primary, which has neither.
    said = port_refusal("redis-primary", "127.0.0.1", 6999, "another program took it")
    assert said == (
        "cannot listen on 127.0.0.1:6999 (redis-primary): another program took it; "
        "start the stack again"
    )
    assert "JOBCAST_REDIS_PORT" in port_refusal("redis", "127.0.0.1", 6999, "taken")


def test_the_embedded_redis_leaves_the_api_its_port_even_when_redis_had_it_the_last_time(
    tmp_path: Path,
) -> None:
    # An api port set to what the Redis of this data dir last ran on was free at the start, so
    # Redis took it again and the api failed as if another program held its port.
    data_dir = tmp_path / "var" / "redis"
    data_dir.mkdir(parents=True)
    with port_held() as port:
        pass
    remember_port(data_dir, port)
    stack = Stack(settings_for(tmp_path, api_port=port), UpOptions())
    try:
        started = stack.start_redis()
    finally:
        stack.supervisor.stop_all()
    assert started.redis_url is not None
    assert f":{port}/" not in started.redis_url
