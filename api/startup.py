"""What an api process makes sure of before it serves: the key secret it checks keys with, that
it is the cluster's (`jobcast.cluster_key_secret`), a Redis that does not evict keys
(`jobcast.redis_durability`), and that its data directory is the storage the cluster shares
(`jobcast.shared_storage`)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from types import TracebackType

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobcast import cluster_key_secret, redis_durability, shared_storage
from jobcast.dev_secrets import secrets_path, stored_key_secret
from jobcast.redis_clients import redis_problem
from jobcast.redis_credentials import (
    EXIT_CREDENTIALS_REFUSED,
    CredentialsRefusedError,
    require_accepted_credentials,
)
from jobcast.settings import InsecureSettingsError, Settings
from jobcast.unknown_settings import unknown_variable_warnings

log = logging.getLogger("jobcast.api")

#: What an api refuses to start on: an operator has a setting to change.
REFUSALS = (
    InsecureSettingsError,
    cluster_key_secret.KeySecretMismatchError,
    shared_storage.StorageMismatchError,
    redis_durability.EvictionPolicyError,
)
#: Seconds between tries of the cluster checks while Redis is away.
RECHECK_INTERVAL = 2.0


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


def exit_if_credentials_refused(settings: Settings) -> None:
    """End the process (one log line, `EXIT_CREDENTIALS_REFUSED`) when Redis answers and refuses
    its password: no wait ends that, where the api started while Redis is away waits for it."""
    try:
        require_accepted_credentials(settings)  # Redis away: the api waits for it
    except CredentialsRefusedError as refused:
        log.critical("%s", refused)
        raise SystemExit(EXIT_CREDENTIALS_REFUSED) from None


async def durability_checked(redis: aioredis.Redis, settings: Settings) -> None:
    """Refuse an evicting Redis (EvictionPolicyError), log what it keeps poorly. With Redis
    away this start says nothing of it: `/readyz` reports an evicting policy once it answers."""
    try:
        found = await redis_durability.read_async(redis)
    except (RedisError, OSError):
        return  # `cluster_checked`, next, says Redis is away
    for warning in redis_durability.required(found, settings.redis_eviction_accepted):
        log.warning("%s", warning)


async def cluster_checked(redis: aioredis.Redis, settings: Settings) -> asyncio.Task[bool] | None:
    """Refuse to serve with a key secret that is not the cluster's (every valid key would be
    answered 401) or from a data directory that is not the cluster's storage (its uploads would
    be missing for the workers). Raised at start (the process exits failed) when Redis answers;
    with Redis away (the api starts and answers 503 until it is back), checked as soon as it
    answers, stopping the process if refused."""
    try:
        await _check_cluster(redis, settings)
    except (RedisError, OSError) as exc:
        log.warning(
            "the key secret and data directory are compared with the cluster's once Redis "
            "answers: %s",
            redis_problem(exc, where=True),
        )
        return asyncio.create_task(_stop_if_refused(redis, settings))
    return None


async def _check_cluster(redis: aioredis.Redis, settings: Settings) -> None:
    await cluster_key_secret.check_async(redis, settings.secret("key_secret"))
    await shared_storage.check_async(redis, settings.data_dir)


async def _stop_if_refused(redis: aioredis.Redis, settings: Settings) -> bool:
    while True:
        try:
            await _check_cluster(redis, settings)
            return False
        except REFUSALS as refused:
            log.critical("%s", refused)
            os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's own stop: requests in flight finish
            return True
        except (RedisError, OSError):
            pass  # still away
        await asyncio.sleep(RECHECK_INTERVAL)


def exit_if_refused(checked: asyncio.Task[bool] | None) -> None:
    """At the end of the lifespan: a process `cluster_checked` refused late exits failed, for a
    supervisor to see it as the failure it is (uvicorn would end it by the SIGTERM it was
    sent). uvicorn has stopped serving by then, and the lifespan has closed its connections."""
    if checked is None or not checked.done() or checked.cancelled():
        return
    if checked.exception() is None and checked.result():
        logging.shutdown()
        os._exit(1)


def warn_of_unknown_variables() -> None:
    """A misspelt setting, named in the log as the api starts (its default is in force)."""
    for warning in unknown_variable_warnings(os.environ):
        log.warning("%s", warning)


def refusals_in_one_line() -> None:
    """An api refusing to start on a setting (`REFUSALS`) says why in one log line, as a worker
    and `jobcast up` do, not as the last line of the traceback Python prints for an exception
    uvicorn lets out of the app factory. Other exceptions keep their traceback."""
    previous = sys.excepthook
    if getattr(previous, "jobcast_refusals", False):
        return  # installed by an earlier app in this process

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if isinstance(value, REFUSALS):
            log.critical("%s", value)
        else:
            previous(kind, value, tb)

    hook.jobcast_refusals = True  # type: ignore[attr-defined]
    sys.excepthook = hook


class LifespanRefusals:
    """Outermost ASGI layer: a refusal raised while the app starts (the cluster checks) is told
    to uvicorn as its one line, not as the traceback Starlette formats for a failed start."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def told(message: Message) -> None:
            # Starlette sends the failure from the `except` block handling the refusal.
            refused = sys.exc_info()[1]
            if message["type"] == "lifespan.startup.failed" and isinstance(refused, REFUSALS):
                message = {**message, "message": str(refused)}
            await send(message)

        await self.app(scope, receive, told)
