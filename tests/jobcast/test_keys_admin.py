"""`jobcast keys list` against a real Redis, run as an operator runs it: when each key was made
and, if it was, revoked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import redis

from jobcast.keys import create_key
from jobcast.rediskeys import API_KEYS_KEY
from jobcast.settings import Settings
from tests.support.processes import REPO_ROOT


def jobcast_keys(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCAST_")}
    env |= {
        "JOBCAST_REDIS_URL": settings.broker_url,
        "JOBCAST_KEY_SECRET": settings.secret("key_secret"),
        "JOBCAST_DATA_DIR": str(settings.data_dir),
        "PYTHONPATH": str(REPO_ROOT),
        "COLUMNS": "200",
    }
    argv = [sys.executable, "-m", "jobcast", "keys", *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=True)


def shown(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")


def row(listing: str, key_id: str) -> str:
    return next(line for line in listing.splitlines() if key_id in line)


def test_keys_list_shows_when_each_key_was_made_and_revoked(
    settings: Settings, redis_client: redis.Redis
) -> None:
    secret = settings.secret("key_secret")
    _, kept = create_key(redis_client, secret, "alice")
    _, revoked = create_key(redis_client, secret, "bob")
    _, earlier = create_key(redis_client, secret, "carol")
    # Revoked before revocations kept their time: the record says only that it is.
    record = json.loads(redis_client.hget(API_KEYS_KEY, earlier.key_id))  # type: ignore[arg-type]
    redis_client.hset(API_KEYS_KEY, earlier.key_id, json.dumps({**record, "revoked": True}))

    before = time.time()
    jobcast_keys(settings, "revoke", revoked.key_id)
    after = time.time()
    listing = jobcast_keys(settings, "list").stdout

    assert "created" in listing
    assert shown(kept.created_at) in row(listing, kept.key_id)
    assert row(listing, kept.key_id).rstrip(" │").endswith(" -")  # not revoked
    revoked_row = row(listing, revoked.key_id)
    assert shown(revoked.created_at) in revoked_row
    # Revoked while the command ran (its start alone can take seconds on a busy machine).
    times = {shown(t) for t in range(int(before), int(after) + 1)}
    assert any(t in revoked_row.split(shown(revoked.created_at), 1)[1] for t in times)
    assert row(listing, earlier.key_id).rstrip(" │").endswith(" yes")  # when: not kept


def test_keys_list_shows_a_name_with_brackets_as_it_is(
    settings: Settings, redis_client: redis.Redis
) -> None:
    # Read as markup, `team[eu]` was listed as `team`.
    _, info = create_key(redis_client, settings.secret("key_secret"), "team[eu]")
    listing = jobcast_keys(settings, "list").stdout
    assert " team[eu] " in row(listing, info.key_id), listing


def test_keys_finds_a_dev_stacks_redis_without_loading_celery(
    settings: Settings, redis_client: redis.Redis
) -> None:
    # A running `jobcast up` leaves its Redis URL in the data directory; reading it loaded the
    # launcher, and with it Celery's config (~0.1-0.2 CPU-s of every `jobcast keys` run).
    _, info = create_key(redis_client, settings.secret("key_secret"), "alice")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "redis.url").write_text(settings.broker_url + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCAST_")}
    env |= {
        "JOBCAST_KEY_SECRET": settings.secret("key_secret"),
        "JOBCAST_DATA_DIR": str(settings.data_dir),
        "PYTHONPATH": str(REPO_ROOT),
        "COLUMNS": "200",
    }
    argv = [sys.executable, "-X", "importtime", "-m", "jobcast", "keys", "list"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=True)

    assert info.key_id in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "jobcast.launcher" not in imported
    assert sorted(m for m in imported if m.split(".")[0] in {"celery", "kombu"}) == []
