"""The api starts with the key secret it checks keys with, and needs no other secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.app import create_app
from api.startup import with_key_secret
from jobcast.dev_secrets import load_dev_secrets
from jobcast.embedded_redis import free_port
from jobcast.settings import InsecureSettingsError, Settings
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
