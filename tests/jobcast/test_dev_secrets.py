"""Dev mode's stored secrets hold only what the stack uses (`jobcast.dev_secrets`)."""

from __future__ import annotations

import json
from pathlib import Path

import redis

from jobcast.dev_secrets import (
    ensure_dev_key,
    load_dev_secrets,
    read_stored,
    secrets_path,
    stored_key_secret,
)
from jobcast.keys_admin import _what_to_set
from jobcast.settings import Settings
from tests.conftest import RedisServer


def dev_settings(data_dir: Path, **supplied: str) -> Settings:
    return Settings(dev=True, data_dir=data_dir, **supplied)


def test_generated_secrets_are_stored_once_and_kept_from_run_to_run(tmp_path: Path) -> None:
    first = load_dev_secrets(dev_settings(tmp_path))
    again = load_dev_secrets(dev_settings(tmp_path))
    assert first.secret("key_secret") == again.secret("key_secret")
    assert stored_key_secret(again) == again.secret("key_secret")
    assert secrets_path(again).stat().st_mode & 0o777 == 0o600


def test_a_supplied_secret_is_used_and_not_stored_nor_one_an_earlier_run_generated(
    tmp_path: Path,
) -> None:
    # `jobcast keys` read the stored (generated) key secret while the api checked keys with
    # the one from the environment: every key it printed was refused as invalid_key.
    load_dev_secrets(dev_settings(tmp_path))
    supplied = {"key_secret": "k" * 32, "flower_password": "my-flower-password"}
    settings = load_dev_secrets(dev_settings(tmp_path, **supplied))
    assert settings.secret("key_secret") == "k" * 32
    assert settings.secret("flower_password") == "my-flower-password"
    stored = json.loads(secrets_path(settings).read_text())
    assert "key_secret" not in stored
    assert "flower_password" not in stored
    assert stored["redis_password"]  # still generated: none was supplied
    assert stored_key_secret(settings) is None
    said = _what_to_set(settings, "redis://127.0.0.1:1/0")
    assert "takes it from its environment" in said
    assert "set the same JOBCAST_KEY_SECRET" in said


def test_the_dev_key_comes_back_with_the_redis_it_was_made_in(
    settings: Settings, redis_server: RedisServer
) -> None:
    # One data dir run plain, then with --ha (another Redis: a new dev key there), then plain
    # again: the banner printed a third key, of a new "dev" principal that saw none of the jobs
    # and orders made with the first.
    plain = redis.Redis.from_url(settings.broker_url, decode_responses=True)
    other = redis.Redis.from_url(redis_server.next_db_url(), decode_responses=True)
    try:
        first = ensure_dev_key(settings, plain)
        assert ensure_dev_key(settings, other) != first
        assert ensure_dev_key(settings, plain) == first
        assert read_stored(settings)["dev_api_key"] == first  # the one the banner prints
    finally:
        plain.close()
        other.close()
