"""Every api process and files worker of a cluster sees one storage, or refuses to start."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import redis

from jobcast import shared_storage
from jobcast.launch_checks import LaunchError
from jobcast.launcher import _require_shared_storage
from jobcast.rediskeys import STORAGE_ID_KEY
from jobcast.settings import Settings
from tests.conftest import RedisServer


@pytest.fixture
def client(redis_server: RedisServer, tmp_path: Path) -> redis.Redis:
    settings: Settings = redis_server.settings_for(tmp_path)
    assert settings.redis_url is not None
    return redis.Redis.from_url(settings.redis_url, decode_responses=True)


def test_the_first_start_makes_the_storage_the_clusters_and_later_ones_agree(
    client: redis.Redis, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared_storage.check(client, shared)
    token = (shared / shared_storage.FILE_NAME).read_text().strip()
    assert client.get(STORAGE_ID_KEY) == token
    shared_storage.check(client, shared)  # the same directory, again: agreed
    client.delete(STORAGE_ID_KEY)  # Redis replaced, the storage kept: taken as the cluster's
    shared_storage.check(client, shared)
    assert client.get(STORAGE_ID_KEY) == token


def test_a_directory_of_its_own_is_refused_naming_it_and_the_remedy(
    client: redis.Redis, tmp_path: Path
) -> None:
    shared_storage.check(client, tmp_path / "shared")
    with pytest.raises(shared_storage.StorageMismatchError) as refused:
        shared_storage.check(client, tmp_path / "elsewhere")  # a worker without the setting
    message = str(refused.value)
    assert str((tmp_path / "elsewhere").resolve()) in message
    assert "upload_missing" in message
    assert STORAGE_ID_KEY in message
    assert not (tmp_path / "elsewhere" / shared_storage.FILE_NAME).exists()  # nothing made
    other = tmp_path / "other-stack"
    other.mkdir()
    (other / shared_storage.FILE_NAME).write_text("f" * 32)  # a second stack's storage
    with pytest.raises(shared_storage.StorageMismatchError, match="is not the cluster's"):
        shared_storage.check(client, other)


def test_processes_starting_together_on_one_storage_agree(
    client: redis.Redis, tmp_path: Path
) -> None:
    shared, failures = tmp_path / "shared", []

    def start() -> None:
        try:
            shared_storage.check(redis.Redis.from_url(client_url(client)), shared)
        except shared_storage.StorageMismatchError as exc:
            failures.append(exc)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert [p.name for p in shared.iterdir()] == [shared_storage.FILE_NAME]  # no file left aside


def client_url(client: redis.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    password = kwargs.get("password") or ""
    return f"redis://:{password}@{kwargs['host']}:{kwargs['port']}/{kwargs['db']}"


def test_a_second_stack_on_anothers_redis_is_refused_before_it_writes_anything(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    first = redis_server.settings_for(tmp_path / "first")
    client = redis.Redis.from_url(first.redis_url or "", decode_responses=True)
    shared_storage.check(client, first.data_dir)
    second = first.replace(data_dir=tmp_path / "second")
    assert shared_storage.refusal(client, first.data_dir) is None
    with pytest.raises(LaunchError, match="needs a Redis of its own"):
        _require_shared_storage(second)
    assert not second.data_dir.exists()  # no lock, no dev secrets left behind
