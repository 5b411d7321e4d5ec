"""429 and 503 against real api processes: retried after Retry-After, and a submit only when
an idempotency key makes the repeat safe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from jobcast.client import Client, UnavailableError
from jobcast.embedded_redis import free_port
from jobcast.keys import create_key
from jobcast.settings import Settings
from tests.conftest import StartApi
from tests.support.tcp_proxy import TcpProxy

Retries = list[tuple[int, float]]


@pytest.fixture
def redis_gate(settings: Settings) -> Iterator[tuple[str, TcpProxy]]:
    """A Redis URL on a port where nothing listens yet, and the proxy that will open it."""
    parts = urlsplit(settings.redis_url or "")
    target = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    port = free_port()
    netloc = parts.netloc.rsplit(":", 1)[0] + f":{port}"
    yield urlunsplit(parts._replace(netloc=netloc)), target
    if target.port:
        target.stop()


def test_503_and_429_are_retried_and_a_submit_only_with_an_idempotency_key(
    start_api: StartApi,
    settings: Settings,
    redis_client: redis.Redis,
    redis_gate: tuple[str, TcpProxy],
    tmp_path: Path,
) -> None:
    """One api process whose Redis is away at first (503) and whose read budget is one request
    a second (429)."""
    gated_url, proxy = redis_gate
    _, url = start_api(
        env={
            "JOBCAST_REDIS_URL": gated_url,
            "JOBCAST_RATE_READ_BURST": "1",
            "JOBCAST_RATE_READ_PER_MINUTE": "60",
        }
    )
    key, _ = create_key(redis_client, settings.secret("key_secret"), "submitter")
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    retries: Retries = []

    def on_retry(status: int, wait: float) -> None:
        retries.append((status, wait))
        if not proxy.port:  # Redis comes back while the client waits
            proxy.start(int(urlsplit(gated_url).port or 0))

    with Client(url, key, on_retry=on_retry) as client:
        with pytest.raises(UnavailableError) as unavailable:
            client.submit_file(data)  # no key: a repeat could make a second job
        assert retries == []
        job = client.submit_file(data, idempotency_key="upload-1")
        came_back = len(retries)
        assert client.submit_file(data, idempotency_key="upload-1").id == job.id
        for _ in range(3):
            assert client.job(job.id).id == job.id

    assert (unavailable.value.code, unavailable.value.status) == ("redis_unavailable", 503)
    assert retries[:came_back] == [(503, 2.0)]  # after the Retry-After the api sent
    throttled = retries[came_back:]
    assert {status for status, _ in throttled} == {429}
    assert all(0 < wait <= 2 for _, wait in throttled)  # what Retry-After said, not a guess
