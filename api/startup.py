"""What an api process makes sure of before it serves: the key secret it checks keys with, and
that its data directory is the storage the cluster shares (`jobcast.shared_storage`)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from jobcast import shared_storage
from jobcast.dev_secrets import secrets_path, stored_key_secret
from jobcast.settings import InsecureSettingsError, Settings

log = logging.getLogger("jobcast.api")


def with_key_secret(settings: Settings) -> Settings:
    """The settings, refused without the key secret, which the api checks every key with (dev
    mode too: without it every authenticated request failed). Flower's password is Flower's.
    In dev mode an unset one is the dev stack's under the same data dir, the one `jobcast up`
    made the dev key with."""
    settings.require_secrets(names=("key_secret",))
    if settings.key_secret is not None:
        return settings
    stored = stored_key_secret(settings)
    if stored is None:
        raise InsecureSettingsError(
            f"JOBCAST_KEY_SECRET is not set, and no dev stack keeps one in "
            f"{secrets_path(settings)}. Set it to the secret the cluster's keys were made with "
            "(a dev stack keeps it in that file under its JOBCAST_DATA_DIR)."
        )
    return settings.replace(key_secret=stored)


async def storage_checked(redis: aioredis.Redis, settings: Settings) -> asyncio.Task[None] | None:
    """Refuse to serve from a data directory that is not the cluster's storage: its uploads
    would be missing for the workers (`jobcast.shared_storage`). Raised at start (the process
    exits failed) when Redis answers; with Redis away (the api starts and answers 503 until
    it is back), checked as soon as it answers, stopping the process if refused."""
    try:
        await shared_storage.check_async(redis, settings.data_dir)
    except (RedisError, OSError) as exc:
        log.warning("the data directory is compared with the cluster's once Redis answers: %s", exc)
        return asyncio.create_task(_stop_if_refused(redis, settings))
    return None


async def _stop_if_refused(redis: aioredis.Redis, settings: Settings) -> None:
    refused = await shared_storage.check_when_reachable(redis, settings.data_dir)
    if refused is not None:
        log.critical("%s", refused)
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's own stop: requests in flight finish
