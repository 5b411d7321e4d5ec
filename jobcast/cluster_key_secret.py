"""One key secret per cluster: every process that makes or checks API keys uses the same one.

Redis keeps only an HMAC of each key under `JOBCAST_KEY_SECRET`. An api started with another
secret (a placeholder copied from a command, say) started cleanly, answered `/readyz` ready, and
then answered every valid key 401 `invalid_key`: behind a load balancer, one request in N failed
with a message blaming the key. So the first process with a key secret puts a fingerprint of it
in Redis, and every later one compares before it serves or makes a key: another secret is
refused, saying which setting and what to do.

The fingerprint is an HMAC of a fixed label under the secret: it proves the secret without
revealing it (Redis already holds HMACs of keys under the same secret, so it tells no more).
There is one secret at a time, as there is one in `jobcast.keys.digest_key`: a key made under an
earlier secret never verifies, so a cluster fingerprint of either could only admit a process
that answers every key 401.
"""

from __future__ import annotations

import hashlib
import hmac

import redis
import redis.asyncio as aioredis

from jobcast.rediskeys import KEY_SECRET_FINGERPRINT_KEY

#: What the secret signs; versioned, should the fingerprint ever be made another way.
LABEL = b"jobcast key secret fingerprint v1"


class KeySecretMismatchError(RuntimeError):
    """This process's key secret is not the one the cluster's keys are made with."""


def fingerprint(key_secret: str) -> str:
    """The proof of `key_secret` kept in Redis."""
    return hmac.new(key_secret.encode(), LABEL, hashlib.sha256).hexdigest()


def check(client: redis.Redis, key_secret: str) -> None:
    """KeySecretMismatchError unless `key_secret` is the cluster's (the first to ask makes it
    so: two first starts each offer theirs, one wins)."""
    mine = fingerprint(key_secret)
    client.set(KEY_SECRET_FINGERPRINT_KEY, mine, nx=True)
    _judge(mine, _text(client.get(KEY_SECRET_FINGERPRINT_KEY)))


async def check_async(client: aioredis.Redis, key_secret: str) -> None:
    """`check`, on an asyncio client (the api's)."""
    mine = fingerprint(key_secret)
    await client.set(KEY_SECRET_FINGERPRINT_KEY, mine, nx=True)
    _judge(mine, _text(await client.get(KEY_SECRET_FINGERPRINT_KEY)))


def _judge(mine: str, cluster: str | None) -> None:
    # None: deleted between the two calls, by an operator starting afresh; ours is next.
    if cluster is None or hmac.compare_digest(mine, cluster):
        return
    raise KeySecretMismatchError(
        "JOBCAST_KEY_SECRET is not the secret this cluster's API keys are made with (Redis key "
        f"{KEY_SECRET_FINGERPRINT_KEY} holds a fingerprint of another). With it every valid key "
        "would be answered 401 invalid_key: set JOBCAST_KEY_SECRET to the cluster's, the same "
        "for every api process and `jobcast keys`. If the cluster's secret was changed on "
        "purpose (every key made with the old one stops working), delete the Redis key "
        f"{KEY_SECRET_FINGERPRINT_KEY} and start again."
    )


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
