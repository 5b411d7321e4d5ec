"""API test fixtures: a key-only view of `make_principal`, and an authenticated client factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.conftest import MakePrincipal
from tests.support.api_client import api_client

MakeKey = Callable[..., str]
MakeClient = Callable[..., httpx.Client]


@pytest.fixture
def make_key(make_principal: MakePrincipal) -> MakeKey:
    """Factory: a new principal's API key (the key alone, from `make_principal`)."""

    def make(name: str = "tester", admin: bool = False) -> str:
        return make_principal(name, admin)[0]

    return make


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """Factory: an httpx client for `base_url`, authenticated with `key` when given."""
    clients: list[httpx.Client] = []

    def make(base_url: str, key: str | None = None) -> httpx.Client:
        client = api_client(base_url, key)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
