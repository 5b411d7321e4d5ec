"""The one door to Redis: every client a Jobcast process opens is built here from `Settings`.

Callers say what the client is for (a worker's commands, a pool for REST requests, the hub's
pub/sub connection); how to reach Redis is decided here only: by URL, or through Sentinel
(`JOBCAST_REDIS_SENTINELS`). Behind Sentinel every client asks the sentinels for the primary
each time it opens a connection, so after a failover a dropped connection comes back on the
new primary: callers only have to retry, as they already do when Redis restarts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, cast

import redis
import redis.asyncio as aioredis
import redis.asyncio.sentinel as aiosentinel
import redis.sentinel
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.maint_notifications import MaintNotificationsConfig
from redis.retry import Retry

from jobcast.command_packing import pack_in_c
from jobcast.redis_url import masked_url
from jobcast.settings import Settings

#: Seconds to wait for a TCP connection before calling Redis away.
CONNECT_TIMEOUT_SECONDS = 2.0
#: Where to look when no sentinel names a primary.
SENTINEL_HINT = "check JOBCAST_REDIS_SENTINELS, JOBCAST_REDIS_SENTINEL_MASTER and the passwords"
#: One sentinel's part of redis-py's MasterNotFoundError text: its client's repr (which holds
#: `host=…,port=…` among a kilobyte of pool internals), " - ", and what it answered.
_SENTINEL_ERROR = re.compile(r"[(,]host=([^,>]+),port=(\d+).*? - (.+?)(?=, <redis\.|$)", re.S)
#: What a sentinel's answer means, for the log: redis-py 8 gives each error as its repr, a
#: category and a class ("network:ConnectionError"), without the error's own text.
_ANSWERS = {
    "network:ConnectionError": "unreachable",
    "network:TimeoutError": "timed out",
    "auth:AuthenticationError": "refused the password",
    "auth:AuthorizationError": "refused the user",
}
#: Every client's pool checks a connection as it hands it out: one Redis closed (a restart, a
#: failover, its idle timeout) is replaced before a command is sent on it, so nothing is sent
#: twice. redis-py skips that check while maintenance notifications are on, and its default,
#: "auto", counts as on: a request after a Redis restart met a closed connection and answered
#: 503. Those notifications (Redis Enterprise pushes about node moves) never come from the
#: Redis Jobcast runs, whose clients only sent a refused `CLIENT MAINT_NOTIFICATIONS` for them.
_CHECKED_CHECKOUT = {"maint_notifications_config": MaintNotificationsConfig(enabled=False)}


_MASK = "*" * 8
#: How the sentinels' retry policy is shown (Flower's worker page: Broker and Config tabs).
_NO_RETRY_SHOWN = "none: the next sentinel is asked"


class _NoRetry(Retry):
    """No retry on a sentinel's connection: the other sentinels are its retry. Named so where
    the options are shown by repr (a worker's `conf` reply, Flower's Config tab), not as
    `<redis.retry.Retry object at 0x…>`."""

    def __init__(self) -> None:
        super().__init__(NoBackoff(), 0)

    def __repr__(self) -> str:
        return _NO_RETRY_SHOWN


class SentinelOptions(Mapping[str, Any]):
    """The sentinels' own connection options (`sentinel_kwargs`) as kombu and Celery hand them to
    redis-py: a mapping, but no dict. A worker's `stats` reply, which Flower's worker page shows,
    carries the broker's transport options as JSON: a dict of these failed it (redis-py's retry
    policy is no JSON) and would have shown the sentinels' password. kombu's JSON writer asks a
    value it cannot write for `__json__`: what this gives, the password masked."""

    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options

    def __getitem__(self, key: str) -> Any:
        return self._options[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._options)

    def __len__(self) -> int:
        return len(self._options)

    def __json__(self) -> dict[str, Any]:
        shown = dict(self._options)
        if "password" in shown:
            shown["password"] = _MASK  # set, not shown (Celery leaves out the primary's)
        if "retry" in shown:
            shown["retry"] = repr(shown["retry"])  # as the `conf` reply shows it
        return shown


class _BlockingSentinelPool(aiosentinel.SentinelConnectionPool, aioredis.BlockingConnectionPool):
    """A pool that follows the primary (Sentinel) and waits for a free connection at its cap."""


def sync_client(
    settings: Settings,
    *,
    timeout: float | None = None,
    connect_timeout: float | None = None,
    decode: bool = True,
) -> redis.Redis:
    """A sync client with its own pool (workers, background threads, CLI commands).

    `timeout` bounds each command's socket read and `connect_timeout` each connection attempt
    (None: wait as long as it takes)."""
    options: dict[str, Any] = {
        "decode_responses": decode,
        "socket_timeout": timeout,
        "socket_connect_timeout": connect_timeout,
        **_CHECKED_CHECKOUT,
    }
    if settings.sentinels:
        sentinel_options = _sentinel_options(settings, _NoRetry())
        sentinel = redis.sentinel.Sentinel(settings.sentinels, **sentinel_options)  # type: ignore[no-untyped-call]
        primary = sentinel.master_for(
            settings.redis_sentinel_master, **_primary(settings), **options
        )  # type: ignore[no-untyped-call]
        return cast(redis.Redis, primary)
    return redis.Redis.from_url(settings.broker_url, **options)


def async_client(settings: Settings, *, keepalive: bool = False) -> aioredis.Redis:
    """An asyncio client with an unbounded pool (the hub's pub/sub connection, the demo)."""
    options: dict[str, Any] = {
        "decode_responses": True,
        "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "socket_keepalive": keepalive,
        **_CHECKED_CHECKOUT,
    }
    if settings.sentinels:
        primary = _async_sentinel(settings).master_for(
            settings.redis_sentinel_master, **_primary(settings), **options
        )
        return _packing_in_c(cast(aioredis.Redis, primary))
    return _packing_in_c(aioredis.Redis.from_url(settings.broker_url, **options))


def async_pool_client(
    settings: Settings,
    *,
    max_connections: int,
    wait_seconds: float,
    timeout: float = 5.0,
    health_check_interval: float = 0,
) -> aioredis.Redis:
    """An asyncio client whose pool holds at most `max_connections`; a burst past it waits up to
    `wait_seconds` for a free one instead of failing at once with "Too many connections"."""
    options: dict[str, Any] = {
        "max_connections": max_connections,
        "timeout": wait_seconds,
        "decode_responses": True,
        "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "socket_timeout": timeout,
        "health_check_interval": health_check_interval,
        **_CHECKED_CHECKOUT,
    }
    if settings.sentinels:
        primary = _async_sentinel(settings).master_for(
            settings.redis_sentinel_master,
            connection_pool_class=_BlockingSentinelPool,
            **_primary(settings),
            **options,
        )
        return _packing_in_c(cast(aioredis.Redis, primary))
    pool = aioredis.BlockingConnectionPool.from_url(settings.broker_url, **options)
    return _packing_in_c(aioredis.Redis(connection_pool=pool))


def _packing_in_c(client: aioredis.Redis) -> aioredis.Redis:
    pack_in_c(client.connection_pool)
    return client


def celery_transport_options(settings: Settings) -> dict[str, Any]:
    """What kombu's sentinel transport and Celery's sentinel result backend need beyond the
    `sentinel://` URL (`Settings.broker_url`): the primary's name and the sentinels' password.
    Empty when Redis is reached by URL."""
    if not settings.sentinels:
        return {}
    sentinel_options = _sentinel_options(settings, _NoRetry())
    return {"master_name": settings.redis_sentinel_master, **sentinel_options}


def _async_sentinel(settings: Settings) -> aiosentinel.Sentinel:
    sentinel_options = _sentinel_options(settings, AsyncRetry(NoBackoff(), 0))
    return aiosentinel.Sentinel(settings.sentinels, **sentinel_options)  # type: ignore[no-untyped-call]


def _sentinel_options(settings: Settings, no_retry: Retry | AsyncRetry) -> dict[str, Any]:
    # The sentinels' own connections: their password (not the primary's), a short connect
    # timeout and no retry, so a dead sentinel costs one connect before the next one is asked
    # (the other sentinels are its retry; a pooled connection it closed is replaced by the
    # pool). redis-py's default retry, 10 times backing off up to 1 s, spent ~10 s on three
    # stopped sentinels for every connection: an api or worker whose sentinels had gone took
    # that long for each Redis call of its shutdown (15 s for an api, 80 s for a worker).
    own: dict[str, Any] = {"socket_connect_timeout": CONNECT_TIMEOUT_SECONDS, "retry": no_retry}
    if settings.redis_sentinel_password is not None:
        own["password"] = settings.secret("redis_sentinel_password")
    return {"sentinel_kwargs": SentinelOptions(own)}


def _primary(settings: Settings) -> dict[str, Any]:
    password = settings.secret("redis_password") if settings.redis_password else None
    return {"password": password, "db": 0}


def configured_redis(settings: Settings) -> str:
    """Where the settings say Redis is, for a message: the sentinels, or the URL without its
    password."""
    if settings.sentinels:
        return f"the Sentinel group {settings.redis_sentinels}"
    return f"JOBCAST_REDIS_URL ({masked_url(settings.redis_url or '')})"


def is_redis_full(exc: BaseException) -> bool:
    """Whether Redis refused a write for want of memory (maxmemory, noeviction): a plain
    command's refusal is redis-py's OutOfMemoryError; inside a script it comes back wrapped in
    the script's error, where only its text tells it apart."""
    return isinstance(exc, redis.OutOfMemoryError) or "OOM command not allowed" in str(exc)


def trouble(exc: BaseException) -> str:
    """What to tell a client whose request met this Redis error (a full Redis is no outage)."""
    if is_redis_full(exc):
        return "The data store is full and refuses writes; retry later."
    return "Redis is unavailable; retry shortly."


def redis_problem(exc: BaseException, *, where: bool = False) -> str:
    """A Redis error in one short line. Behind Sentinel redis-py's text lists each sentinel's
    client as its repr (hosts, pools, ~3 KB a sentinel), with the cause, a refused password or
    a refused connection, buried in it: this says the cause and where to look. `where` adds
    each sentinel's address and answer (for the log; a probe anyone may call leaves them out).
    An error raised from a Redis error (kombu's OperationalError, which copies its text) is told
    as that error."""
    if isinstance(exc.__cause__, redis.RedisError):
        return redis_problem(exc.__cause__, where=where)
    text = str(exc)
    if isinstance(exc, redis.sentinel.MasterNotFoundError | aiosentinel.MasterNotFoundError):
        head = text.split(" : ", 1)[0]  # "No master found for 'jobcast'"
        refused = "a sentinel refused the password; " if "AuthenticationError" in text else ""
        said = ""
        if where:
            answers = [
                f"{h}:{p} {_ANSWERS.get(e.strip(), e.strip())}"
                for h, p, e in _SENTINEL_ERROR.findall(text)
            ]
            said = f"sentinels said: {', '.join(answers)}; " if answers else ""
        return f"{head} ({refused}{said}{SENTINEL_HINT})"
    first = text.splitlines()[0] if text else type(exc).__name__
    return first if len(first) <= 200 else f"{first[:199]}…"
