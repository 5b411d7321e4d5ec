"""When Redis goes away the api answers 503 with a clear body, and recovers by itself."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import redis

from jobcast.embedded_redis import EmbeddedRedis, free_port
from jobcast.keys import create_key
from jobcast.settings import Settings
from tests.conftest import StartApi
from tests.support.processes import wait_for


def test_requests_get_503_while_redis_is_down_and_recover_without_restart(
    start_api: StartApi, settings: Settings, tmp_path: Path
) -> None:
    server = EmbeddedRedis(port=free_port(), password=secrets.token_hex(8), data_dir=tmp_path / "r")
    proc = server.start()
    try:
        server.wait_ready()
        client = redis.Redis.from_url(server.url, decode_responses=True)
        key, _ = create_key(client, settings.secret("key_secret"), "ops")
        client.close()
        _, url = start_api(env={"JOBCAST_REDIS_URL": server.url})
        headers = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{url}/data/", headers=headers).status_code == 200

        proc.terminate()
        proc.wait(timeout=10)
        down = httpx.get(f"{url}/data/", headers=headers, timeout=15)
        assert down.status_code == 503
        assert down.json()["error"]["code"] == "redis_unavailable"
        assert "retry" in down.json()["error"]["message"]
        assert httpx.get(f"{url}/readyz", timeout=15).status_code == 503

        proc = server.start()  # same port, same data directory (AOF): the key survives
        server.wait_ready()
        wait_for(
            lambda: httpx.get(f"{url}/data/", headers=headers, timeout=15).status_code == 200,
            20,
            "the api to recover",
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
