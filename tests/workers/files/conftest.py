"""Fixtures for file jobs: an api process, a principal's client, files-queue workers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from jobcast.settings import Settings
from tests.conftest import StartApi, new_principal
from tests.workers.files.support import JobsClient


@pytest.fixture
def jobs(
    start_api: StartApi, redis_client: redis.Redis, settings: Settings
) -> Iterator[JobsClient]:
    _, base_url = start_api()
    key, _ = new_principal(redis_client, settings, "alice")
    client = JobsClient(base_url, key)
    yield client
    client.http.close()
