"""When Redis goes away the api answers 503 with a clear body, and recovers by itself."""

from __future__ import annotations

import json
import secrets
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from celery import Celery
from kombu.exceptions import OperationalError
from redis.asyncio import ConnectionError as RedisConnectionError

from api import job_store
from api.upload_quota import UploadQuota
from jobcast.embedded_redis import EmbeddedRedis, free_port
from jobcast.keys import create_key
from jobcast.rediskeys import job_key
from jobcast.settings import Settings
from jobcast.storage_paths import upload_path
from tests.api.conftest import MakeKey
from tests.api.inprocess import run_in_process
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


def test_redis_lost_right_after_a_job_is_registered_keeps_its_upload_for_the_retry(
    settings: Settings,
    make_key: MakeKey,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Redis goes away between the job's registration and the quota's settlement (seen in the
    # soak: the job stayed queued with its upload deleted, and failed as upload_missing)
    headers = {"Authorization": f"Bearer {make_key()}", "Idempotency-Key": "retry-me"}
    settle = UploadQuota.settle
    failures = [RedisConnectionError("Connection refused.")]

    async def settle_once_failing(self: UploadQuota, stored: str, size: int) -> None:
        if failures:
            raise failures.pop()
        await settle(self, stored, size)

    monkeypatch.setattr(UploadQuota, "settle", settle_once_failing)
    table = ("t.csv", b"a,b\n1,2\n")

    async def scenario(client: httpx.AsyncClient) -> None:
        lost = await client.post("/jobs", files={"file": table}, headers=headers)
        assert lost.status_code == 503, lost.text
        # The client did not hear of its job and sends the request again, with the same key
        again = await client.post("/jobs", files={"file": table}, headers=headers)
        assert again.status_code == 202, again.text
        record = redis_client.hgetall(job_key(again.json()["id"]))
        assert record["status"] == "queued"
        assert upload_path(settings, record["stored"]).read_bytes() == table[1]

    run_in_process(settings, scenario)


def test_redis_answer_lost_after_the_job_was_written_keeps_its_upload_for_the_retry(
    settings: Settings,
    make_key: MakeKey,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Redis applies the job's registration and dies before answering (seen in the soak)
    headers = {"Authorization": f"Bearer {make_key()}", "Idempotency-Key": "retry-me"}
    create = job_store.create_job
    failures = [RedisConnectionError("Connection closed by server.")]

    async def create_then_lose_the_answer(*args: Any, **kwargs: Any) -> dict[str, Any]:
        record = await create(*args, **kwargs)
        if failures:
            raise failures.pop()
        return record

    monkeypatch.setattr(job_store, "create_job", create_then_lose_the_answer)
    table = ("t.csv", b"a,b\n1,2\n")

    async def scenario(client: httpx.AsyncClient) -> None:
        lost = await client.post("/jobs", files={"file": table}, headers=headers)
        assert lost.status_code == 503, lost.text
        again = await client.post("/jobs", files={"file": table}, headers=headers)
        assert again.status_code == 202, again.text
        record = redis_client.hgetall(job_key(again.json()["id"]))
        assert upload_path(settings, record["stored"]).read_bytes() == table[1]

    run_in_process(settings, scenario)


def test_a_job_the_broker_refuses_answers_503_and_fails_instead_of_waiting_forever(
    settings: Settings,
    make_key: MakeKey,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The job is written, then its task cannot be sent (the broker went away after the write)
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to the broker. Connection refused.")

    monkeypatch.setattr(Celery, "send_task", refuse)
    headers = {"Authorization": f"Bearer {make_key()}"}

    async def scenario(client: httpx.AsyncClient) -> None:
        refused = await client.post("/jobs", files={"file": ("t.csv", b"a\n1\n")}, headers=headers)
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "unavailable"
        (job_id,) = [j["id"] for j in (await client.get("/jobs", headers=headers)).json()["items"]]
        record = redis_client.hgetall(job_key(job_id))
        assert record["status"] == "failed"
        assert json.loads(record["error"])["code"] == "queue_unavailable"

    run_in_process(settings, scenario)
    # The lifespan closed the app's one task sender: its thread is gone.
    assert not [t for t in threading.enumerate() if t.name.startswith("jobcast-send")]
