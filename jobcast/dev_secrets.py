"""Dev mode's generated secrets and dev API key, kept in `data_dir/dev-secrets.json`.

The file holds the three secrets `jobcast up` generates once (so the dev credentials stay the
same from one run to the next) and the raw dev API key the banner prints. Only the secrets are
settings; the key is the launcher's own, so loading the file never treats it as one.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import redis

from jobcast.keys import create_key, digest_key
from jobcast.rediskeys import api_key_lookup_key
from jobcast.settings import Settings

#: The settings dev mode generates when they are unset.
GENERATED_SECRETS = ("flower_password", "key_secret", "redis_password")
#: The raw dev API key's entry in the file (not a setting).
DEV_API_KEY = "dev_api_key"


def secrets_path(settings: Settings) -> Path:
    return settings.data_dir / "dev-secrets.json"


def read_stored(settings: Settings) -> dict[str, str]:
    """What the file holds; empty when there is none yet."""
    path = secrets_path(settings)
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    return stored


def _write(settings: Settings, stored: dict[str, str]) -> None:
    path = secrets_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(json.dumps(stored, indent=2))


def load_dev_secrets(settings: Settings) -> Settings:
    """In dev mode, fill missing secrets from the file, generating (and storing) them once."""
    if not settings.dev:
        return settings
    stored = read_stored(settings)
    for name in GENERATED_SECRETS:
        stored.setdefault(name, secrets.token_urlsafe(24))
    _write(settings, stored)
    update = {name: stored[name] for name in GENERATED_SECRETS if getattr(settings, name) is None}
    return settings.replace(**update) if update else settings


def stored_key_secret(settings: Settings) -> str | None:
    """The key secret a dev stack under `settings.data_dir` uses, if there is one (read only)."""
    return read_stored(settings).get("key_secret")


def ensure_dev_key(settings: Settings, client: redis.Redis) -> str:
    """The dev API key (admin), created once and kept in the file while Redis keeps it."""
    stored = read_stored(settings)
    secret = settings.secret("key_secret")
    existing = stored.get(DEV_API_KEY)
    if existing and client.exists(api_key_lookup_key(digest_key(secret, existing))):
        return existing
    raw, _ = create_key(client, secret, "dev", admin=True)
    stored[DEV_API_KEY] = raw
    _write(settings, stored)
    return raw
