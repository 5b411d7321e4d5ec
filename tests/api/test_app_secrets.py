"""The api starts with the key secret it checks keys with, and needs no other secret."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import redis

from api.app import create_app
from api.startup import with_key_secret
from jobcast import cluster_key_secret
from jobcast.dev_secrets import load_dev_secrets
from jobcast.embedded_redis import free_port
from jobcast.rediskeys import KEY_SECRET_FINGERPRINT_KEY
from jobcast.settings import InsecureSettingsError, Settings
from tests.conftest import MakePrincipal, StartApi
from tests.support.processes import api_argv, process_env, spawn


def make(data_dir: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, **values)  # type: ignore[arg-type]


def test_a_production_api_needs_the_key_secret_but_not_flowers_password(tmp_path: Path) -> None:
    create_app(make(tmp_path, dev=False, key_secret="k" * 20))  # Flower's is Flower's
    with pytest.raises(InsecureSettingsError, match=r"^JOBCAST_KEY_SECRET is not set\."):
        create_app(make(tmp_path, dev=False, flower_password="f" * 20))


def test_a_dev_api_without_a_key_secret_or_a_dev_stacks_refuses_to_start(tmp_path: Path) -> None:
    # It started, then answered every authenticated request 500 (no secret to check keys with).
    with pytest.raises(InsecureSettingsError) as refused:
        create_app(make(tmp_path, dev=True))
    assert "JOBCAST_KEY_SECRET is not set" in str(refused.value)
    assert str(tmp_path / "dev-secrets.json") in str(refused.value)


def test_a_dev_api_takes_the_key_secret_of_the_dev_stack_under_its_data_dir(
    tmp_path: Path,
) -> None:
    stack = load_dev_secrets(make(tmp_path, dev=True))  # as `jobcast up` keeps them
    assert stack.key_secret is not None
    api = with_key_secret(make(tmp_path, dev=True))
    assert api.secret("key_secret") == stack.secret("key_secret")
    given = with_key_secret(make(tmp_path, dev=True, key_secret="g" * 20))
    assert given.secret("key_secret") == "g" * 20  # a secret given wins


def test_an_api_process_without_the_key_secret_exits_saying_so_in_one_line(
    settings: Settings, tmp_path: Path
) -> None:
    env = process_env(settings.replace(dev=False))
    del env["JOBCAST_KEY_SECRET"]
    api = spawn("no-secret-api", api_argv(free_port()), env, tmp_path)
    assert api.popen.wait(timeout=60) == 1
    assert "JOBCAST_KEY_SECRET is not set" in api.output()
    assert "Traceback" not in api.output()


def test_an_api_with_another_key_secret_than_the_clusters_refuses_to_start_saying_so(
    settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    # It started, answered /readyz ready, then every valid key 401 invalid_key.
    cluster_key_secret.check(redis_client, settings.secret("key_secret"))  # the cluster's
    env = process_env(settings, {"JOBCAST_KEY_SECRET": "copied-from-a-placeholder"})
    api = spawn("other-secret-api", api_argv(free_port()), env, tmp_path)
    try:
        assert api.popen.wait(timeout=60) == 3  # uvicorn's failed start, as for a foreign storage
    finally:
        api.kill()
    said = api.output()
    assert "JOBCAST_KEY_SECRET is not the secret this cluster's API keys are made with" in said
    assert KEY_SECRET_FINGERPRINT_KEY in said
    assert "Traceback" not in said
    assert "copied-from-a-placeholder" not in said


def test_api_processes_with_the_clusters_key_secret_start_and_take_its_keys(
    make_principal: MakePrincipal, start_api: StartApi
) -> None:
    start_api()  # the first makes its secret the cluster's
    _, url = start_api()  # a second, with the same one, agrees
    key, _ = make_principal()
    assert httpx.get(f"{url}/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_an_api_on_a_redis_without_a_fingerprint_writes_its_secrets(
    settings: Settings, redis_client: redis.Redis, start_api: StartApi
) -> None:
    # A Redis written before the check: the first api to start makes its secret the cluster's.
    assert redis_client.get(KEY_SECRET_FINGERPRINT_KEY) is None
    start_api()
    fingerprint = cluster_key_secret.fingerprint(settings.secret("key_secret"))
    assert redis_client.get(KEY_SECRET_FINGERPRINT_KEY) == fingerprint
