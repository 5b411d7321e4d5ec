"""API keys and the principals they belong to.

A key is `jc_<key id>_<secret>`. Redis stores only an HMAC of the whole key (keyed with
`JOBCAST_KEY_SECRET`), so a copy of the database does not reveal working keys; the key id is
public and names the key in listings and revocation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

import redis
import redis.asyncio as aioredis

from jobcast.key_shape import KEY_PREFIX
from jobcast.rediskeys import API_KEYS_KEY, KEY_REVOKED_CHANNEL, api_key_lookup_key
from jobcast.schemas.text import hidden_character, refusal

if TYPE_CHECKING:  # key_cache imports KeyInfo from here
    from jobcast.key_cache import KeyCache

#: Where keys made and revoked are logged (`jobcast keys`, the api): the key id, its principal and
#: who did it, never the key.
audit = logging.getLogger("jobcast.audit")


def digest_key(key_secret: str, raw_key: str) -> str:
    return hmac.new(key_secret.encode(), raw_key.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who a request acts for; every record is owned by one."""

    id: str
    name: str
    admin: bool = False
    #: The key this request or connection authenticated with ("" when none, e.g. in tests):
    #: revoking it ends the connection and its unused tickets.
    key_id: str = ""


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    principal_id: str
    name: str
    admin: bool
    created_at: float
    digest: str
    revoked: bool = False
    #: When it was revoked; None for a key revoked before revocations kept their time.
    revoked_at: float | None = None

    def principal(self) -> Principal:
        return Principal(id=self.principal_id, name=self.name, admin=self.admin, key_id=self.key_id)


def new_key() -> tuple[str, str]:
    """(key id, full key) for a fresh key."""
    key_id = secrets.token_hex(6)
    return key_id, f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


#: Longest principal name: a label in tables, chat and the web app's header.
MAX_NAME_LENGTH = 100


class InvalidNameError(ValueError):
    """A principal's name that would not show as one line of text; the message says why."""


def check_name(name: str) -> str:
    """`name` without surrounding blanks, or InvalidNameError. Names are shown to other people
    (chat, the monitor) and in terminals: a control character could forge lines or colours (the
    rule data items' and chat's text follow)."""
    name = name.strip()
    if not name:
        raise InvalidNameError("a name needs at least one character that is not blank")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidNameError(f"a name has at most {MAX_NAME_LENGTH} characters ({len(name)})")
    hidden = hidden_character(name)
    if hidden is not None:
        raise InvalidNameError(f"the name {refusal(hidden)}")
    return name


def create_key(
    client: redis.Redis,
    key_secret: str,
    name: str,
    admin: bool = False,
    principal_id: str | None = None,
) -> tuple[str, KeyInfo]:
    """Create a key (and a principal, unless `principal_id` names one). Returns (key, info).
    InvalidNameError for a new principal's name `check_name` refuses (an existing principal's
    keys keep the name it has)."""
    key_id, raw = new_key()
    info = KeyInfo(
        key_id=key_id,
        principal_id=principal_id or f"p_{secrets.token_hex(8)}",
        name=check_name(name) if principal_id is None else name,
        admin=admin,
        created_at=time.time(),
        digest=digest_key(key_secret, raw),
    )
    pipe = client.pipeline(transaction=True)
    pipe.set(api_key_lookup_key(info.digest), _stored(info))
    pipe.hset(API_KEYS_KEY, key_id, _stored(info))
    pipe.execute()
    return raw, info


def _stored(info: KeyInfo) -> str:
    # Without `revoked_at` until there is one: a process of the version before it reads records
    # as KeyInfo(**record), and a field it does not know would fail every key it checks.
    fields = asdict(info)
    if fields["revoked_at"] is None:
        del fields["revoked_at"]
    return json.dumps(fields)


def _revoked(info: KeyInfo) -> str:
    return _stored(replace(info, revoked=True, revoked_at=info.revoked_at or time.time()))


def list_keys(client: redis.Redis) -> list[KeyInfo]:
    raw: dict[str, str] = client.hgetall(API_KEYS_KEY)  # type: ignore[assignment]
    return sorted((KeyInfo(**json.loads(v)) for v in raw.values()), key=lambda k: k.created_at)


def revoke_key(client: redis.Redis, key_id: str) -> KeyInfo | None:
    """Revoke a key by id: what it was before (`revoked` says whether it already was), or None
    if there is no such key."""
    raw = client.hget(API_KEYS_KEY, key_id)
    if raw is None:
        return None
    info = KeyInfo(**json.loads(raw))
    pipe = client.pipeline(transaction=True)
    pipe.delete(api_key_lookup_key(info.digest))
    pipe.hset(API_KEYS_KEY, key_id, _revoked(info))
    pipe.publish(KEY_REVOKED_CHANNEL, key_id)
    pipe.execute()
    return info


async def key_info_async(client: aioredis.Redis, key_id: str) -> KeyInfo | None:
    raw = await client.hget(API_KEYS_KEY, key_id)
    return None if raw is None else KeyInfo(**json.loads(raw))


async def revoke_key_async(client: aioredis.Redis, key_id: str) -> KeyInfo | None:
    """As `revoke_key`, from the api."""
    info = await key_info_async(client, key_id)
    if info is None:
        return None
    async with client.pipeline(transaction=True) as pipe:
        pipe.delete(api_key_lookup_key(info.digest))
        pipe.hset(API_KEYS_KEY, key_id, _revoked(info))
        pipe.publish(KEY_REVOKED_CHANNEL, key_id)
        await pipe.execute()
    return info


async def revoked_among(client: aioredis.Redis, key_ids: list[str]) -> set[str]:
    """Which of `key_ids` are revoked (or gone from the index) now."""
    if not key_ids:
        return set()
    raw: list[str | None] = await client.hmget(API_KEYS_KEY, key_ids)  # type: ignore[assignment]
    return {k for k, v in zip(key_ids, raw, strict=True) if v is None or json.loads(v)["revoked"]}


async def list_keys_async(client: aioredis.Redis) -> list[KeyInfo]:
    raw: dict[str, str] = await client.hgetall(API_KEYS_KEY)  # type: ignore[assignment]
    return sorted((KeyInfo(**json.loads(v)) for v in raw.values()), key=lambda k: k.created_at)


async def authenticate(
    client: aioredis.Redis, key_secret: str, raw_key: str, cache: KeyCache | None = None
) -> Principal | None:
    """The principal a presented key belongs to, or None for an unknown or revoked key. With a
    `cache`, a key it remembers is not looked up again (unknown keys are never remembered)."""
    if not raw_key.startswith(f"{KEY_PREFIX}_") or len(raw_key) > 200:
        return None
    digest = digest_key(key_secret, raw_key)
    info = cache.get(digest) if cache is not None else None
    if info is None:
        generation = cache.generation if cache is not None else 0
        stored = await client.get(api_key_lookup_key(digest))
        if stored is None:
            return None
        info = KeyInfo(**json.loads(stored))
        if cache is not None:
            cache.put(info, generation)
    return None if info.revoked else info.principal()
