"""Every process refuses to start on a Redis that answers but refuses its credentials.

A wrong password is no outage: waiting does not end it. The api answered 503 for ever and a
worker retried for ever, each logging the refusal as Redis being away. So where a process first
meets Redis (the api's factory, a worker's `worker_init`, `jobcast up` and `jobcast keys`) a
refusal of the password or user ends it in one line naming the variable, the password masked,
with `EXIT_CREDENTIALS_REFUSED`. Redis not answering at all is left to each caller, which waits
(an api, a worker) or refuses (`jobcast up`) as before.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import redis

from jobcast.redis_clients import CONNECT_TIMEOUT_SECONDS, redis_problem, sync_client
from jobcast.redis_url import masked_url
from jobcast.settings import Settings

#: The exit status of a process whose Redis refused its credentials: as a user command's for a
#: refused key (README's exit codes), and not a setting that cannot be read (2).
EXIT_CREDENTIALS_REFUSED = 4


class CredentialsRefusedError(Exception):
    """Redis answered and refused the password (or user) this process was given."""


def credentials_refusal(settings: Settings, exc: BaseException) -> CredentialsRefusedError | None:
    """The refusal to start on `exc`, a Redis error met reaching Redis, when Redis refused the
    credentials (WRONGPASS, NOAUTH: redis-py's AuthenticationError); None for anything else."""
    if not _refused_credentials(exc):
        return None
    if settings.sentinels:
        where = "JOBCAST_REDIS_PASSWORD (the primary's, behind JOBCAST_REDIS_SENTINELS)"
    else:
        where = f"JOBCAST_REDIS_URL ({masked_url(settings.broker_url)})"
    # Without one, Redis's answer is about HELLO's syntax (redis-py opens with HELLO 3).
    said = "it needs a password, none is given"
    if _password_given(settings):
        said = redis_problem(exc).rstrip(".")
    return CredentialsRefusedError(
        f"Redis refused the credentials in {where}: {said}. Give the password (and user) that "
        "Redis expects there."
    )


def require_accepted_credentials(
    settings: Settings, timeout: float = CONNECT_TIMEOUT_SECONDS
) -> BaseException | None:
    """Raise CredentialsRefusedError when Redis answers and refuses this process's credentials.
    Any other failure to reach it is returned, not raised, for the caller to wait on (an api,
    a worker) or refuse (`jobcast up`); None when it answers, or when none is configured
    (`jobcast up` has yet to start its own)."""
    if not (settings.redis_url or settings.sentinels):
        return None
    client = sync_client(settings, timeout=timeout, connect_timeout=timeout)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        refusal = credentials_refusal(settings, exc)
        if refusal is not None:
            raise refusal from None
        return exc
    finally:
        client.close()
    return None


def _password_given(settings: Settings) -> bool:
    if settings.sentinels:
        return settings.redis_password is not None
    parts = urlsplit(settings.broker_url)
    return parts.password is not None or "password=" in parts.query


def _refused_credentials(exc: BaseException) -> bool:
    # kombu and Celery re-raise a Redis error as their own, from it.
    cause = exc.__cause__
    return isinstance(exc, redis.AuthenticationError) or (
        cause is not None and _refused_credentials(cause)
    )
