"""API test fixtures: keys for principals, and an authenticated client factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
import redis

from jobcast.keys import create_key
from jobcast.settings import Settings

MakeKey = Callable[..., str]
MakeClient = Callable[..., httpx.Client]


@pytest.fixture
def make_key(redis_client: redis.Redis, settings: Settings) -> MakeKey:
    """Factory: a new principal's API key."""

    def make(name: str = "tester", admin: bool = False) -> str:
        raw, _ = create_key(redis_client, settings.secret("key_secret"), name, admin=admin)
        return raw

    return make


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """Factory: an httpx client for `base_url`, authenticated with `key` when given."""
    clients: list[httpx.Client] = []

    def make(base_url: str, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        client = httpx.Client(base_url=base_url, headers=headers, timeout=10)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
