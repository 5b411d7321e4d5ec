"""Realtime fixtures: principals' keys, and a started api process."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from jobcast.keys import create_key
from jobcast.settings import Settings

MakeKey = Callable[..., tuple[str, str]]


@pytest.fixture
def make_principal(redis_client: redis.Redis, settings: Settings) -> MakeKey:
    """Factory: (API key, principal id) of a new principal."""

    def make(name: str = "tester") -> tuple[str, str]:
        raw, info = create_key(redis_client, settings.secret("key_secret"), name)
        return raw, info.principal_id

    return make
