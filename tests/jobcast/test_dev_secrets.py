"""Dev mode's stored secrets hold only what the stack uses (`jobcast.dev_secrets`)."""

from __future__ import annotations

import json
from pathlib import Path

from jobcast.dev_secrets import load_dev_secrets, secrets_path, stored_key_secret
from jobcast.keys_admin import _what_to_set
from jobcast.settings import Settings


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
