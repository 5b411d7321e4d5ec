"""When Redis goes away the api answers 503 with a clear body, and recovers by itself."""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import redis.asyncio as aioredis
from celery import Celery
from kombu.exceptions import OperationalError
from redis.asyncio import ConnectionError as RedisConnectionError
from redis.exceptions import WatchError

import celeryconfig
from api import job_store
from api.upload_quota import UploadQuota
from jobcast.embedded_redis import EmbeddedRedis, free_port
from jobcast.keys import create_key
from jobcast.orders import intake
from jobcast.rediskeys import inbound_key, job_key, quota_ledger_key
from jobcast.settings import Settings
from jobcast.storage_paths import upload_path
from tests.api.conftest import MakeKey
from tests.api.inprocess import run_in_process
from tests.conftest import StartApi, launch_api
from tests.support.api_client import api_client
from tests.support.processes import wait_for
from tests.support.sentinel import sentinel_group
from tests.support.stack import stoppable_redis
from workers.orders.runner import drain
from workers.reconciler import Reconciler


def failing_once(call: Callable[..., Awaitable[Any]], error: Exception) -> Any:
    """`call`, except that its first call raises `error` before doing anything."""
    failures = [error]

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return await call(*args, **kwargs)

    return wrapper


@dataclass
class KeyedRedis:
    """A Redis of the test's own that keeps its data across a restart on its port (AOF), with
    an API key made in it."""

    server: EmbeddedRedis
    proc: subprocess.Popen[bytes]
    key: str = ""

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def start(self) -> None:
        self.proc = self.server.start()
        self.server.wait_ready()


@contextlib.contextmanager
def keyed_redis(settings: Settings, data_dir: Path) -> Iterator[KeyedRedis]:
    server = EmbeddedRedis(port=free_port(), password=secrets.token_hex(8), data_dir=data_dir)
    own = KeyedRedis(server, server.start())
    try:
        server.wait_ready()
        client = redis.Redis.from_url(server.url, decode_responses=True)
        own.key, _ = create_key(client, settings.secret("key_secret"), "ops")
        client.close()
        yield own
    finally:
        own.stop()


def test_requests_get_503_while_redis_is_down_and_recover_without_restart(
    start_api: StartApi, settings: Settings, tmp_path: Path
) -> None:
    with keyed_redis(settings, tmp_path / "r") as own:
        api, url = start_api(env={"JOBCAST_REDIS_URL": own.server.url})
        headers = {"Authorization": f"Bearer {own.key}"}
        assert httpx.get(f"{url}/data/", headers=headers).status_code == 200

        own.stop()
        down = httpx.get(f"{url}/data/", headers=headers, timeout=15)
        assert down.status_code == 503
        assert down.json()["error"]["code"] == "redis_unavailable"
        assert "retry" in down.json()["error"]["message"]
        # The log line names the request, as the access log does: which route, which client.
        told = f"Redis unavailable on GET /data/ (request_id={down.headers['x-request-id']}): "
        wait_for(lambda: told in api.output(), 5, "the outage's log line", api)
        assert httpx.get(f"{url}/readyz", timeout=15).status_code == 503

        own.start()  # same port, same data directory (AOF): the key survives
        wait_for(
            lambda: httpx.get(f"{url}/data/", headers=headers, timeout=15).status_code == 200,
            20,
            "the api to recover",
        )


def test_the_first_requests_after_a_redis_restart_answer_200(
    start_api: StartApi, settings: Settings, tmp_path: Path
) -> None:
    # Redis closes the api's idle connections as it stops. Each route's first request after it
    # came back took one of them from the pool (or the script lane) and answered 503
    # "Connection closed by server": redis-py skips its closed-connection check at checkout.
    with keyed_redis(settings, tmp_path / "r") as own:
        _, url = start_api(env={"JOBCAST_REDIS_URL": own.server.url})
        http = api_client(url, own.key, timeout=15)
        job = http.post("/jobs", files={"file": ("t.csv", b"a\n1\n")}).json()["id"]
        paths = [f"/jobs/{job}", "/jobs", "/data/", "/me"]
        assert [http.get(path).status_code for path in paths] == [200] * len(paths)

        own.stop()  # same port, same data directory (AOF): the key and the job survive
        own.start()
        answers = {path: http.get(path) for path in paths}
        assert {p: a.status_code for p, a in answers.items()} == dict.fromkeys(paths, 200), {
            p: a.text for p, a in answers.items()
        }


def test_readyz_right_after_redis_went_says_why_it_cannot_be_reached_now(
    start_api: StartApi, tmp_path: Path
) -> None:
    # The probe's PING went out on a pooled connection Redis had closed as it went: the first
    # answer said "Connection closed by server", how that old connection ended, and only the
    # next probe said what stands (the connection refused).
    with stoppable_redis(tmp_path / "r") as (server, proc):
        _, url = start_api(env={"JOBCAST_REDIS_URL": server.url})
        httpx.get(f"{url}/readyz", timeout=15)  # leaves a connection in the api's pool
        proc.kill()
        proc.wait(timeout=10)
        first = httpx.get(f"{url}/readyz", timeout=15)
    assert first.status_code == 503
    assert first.json()["error"]["message"] == (
        f"Redis does not answer: Error 111 connecting to 127.0.0.1:{server.port}. "
        "Connection refused."
    )


def test_an_api_whose_sentinels_have_gone_stops_within_seconds(tmp_path: Path) -> None:
    # Each Redis call of its shutdown (the monitor's release) asked the three stopped sentinels
    # for ~10 s (redis-py retried each one's connection): the api took 15 s to exit.
    with sentinel_group(tmp_path) as group:
        proc, _ = launch_api(group.settings(tmp_path / "data"), tmp_path)
        try:
            for server in group.procs.values():
                server.stop()
            lost = "pub/sub connection lost"
            wait_for(lambda: lost in proc.output(), 30, "the api to lose Redis", proc)
            started = time.monotonic()
            proc.popen.send_signal(signal.SIGTERM)
            proc.popen.wait(timeout=30)
            assert time.monotonic() - started < 5, proc.output()[-2000:]
        finally:
            proc.kill()


def test_an_api_whose_redis_stopped_answering_stops_within_seconds(
    start_api: StartApi, tmp_path: Path
) -> None:
    # A Redis host that drops packets (no RST), here a stopped server: the monitor's release at
    # shutdown waited for the pool's socket timeout (5 s) before the api could exit.
    with stoppable_redis(tmp_path / "r") as (server, redis_proc):
        proc, _ = start_api(env={"JOBCAST_REDIS_URL": server.url})
        redis_proc.send_signal(signal.SIGSTOP)
        started = time.monotonic()
        proc.popen.send_signal(signal.SIGTERM)
        proc.popen.wait(timeout=30)
        took = time.monotonic() - started
    assert took < 4, (took, proc.output()[-2000:])
    said = [line for line in proc.output().splitlines() if "monitor entry not released" in line]
    assert len(said) == 1, proc.output()[-2000:]
    assert "Redis did not answer within 1.0 s" in said[0]


def test_redis_lost_as_a_job_is_registered_applies_none_of_it_and_the_retry_gets_a_job(
    settings: Settings,
    make_key: MakeKey,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The job, its upload's bytes in the quota and its waiting mark are one MULTI: Redis lost
    # while it is made applies none of them (the soak once saw a job registered apart from its
    # quota settlement stay queued with its upload deleted, and fail as upload_missing)
    headers = {"Authorization": f"Bearer {make_key()}", "Idempotency-Key": "retry-me"}
    refused = RedisConnectionError("Connection refused.")
    monkeypatch.setattr(
        UploadQuota, "queue_settle", failing_once(UploadQuota.queue_settle, refused)
    )
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
        ledger = redis_client.hgetall(quota_ledger_key(record["owner"]))
        assert list(ledger) == [f"upload:{record['stored']}"]  # settled, nothing left reserved

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

    async def create_then_lose_the_answer(*args: Any, **kwargs: Any) -> tuple[Any, bool]:
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


def test_redis_lost_before_the_job_is_written_leaves_its_key_free_for_the_retry(
    settings: Settings,
    make_key: MakeKey,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Redis goes away after the Idempotency-Key is looked up and before the job is written (seen
    # in the soak: the key was claimed on its own, and the retry got 404 for its own job)
    headers = {"Authorization": f"Bearer {make_key()}", "Idempotency-Key": "retry-me"}
    closed = RedisConnectionError("Connection closed by server.")
    monkeypatch.setattr(job_store, "queue_commit", failing_once(job_store.queue_commit, closed))
    table = ("t.csv", b"a,b\n1,2\n")

    async def scenario(client: httpx.AsyncClient) -> None:
        lost = await client.post("/jobs", files={"file": table}, headers=headers)
        assert lost.status_code == 503, lost.text
        assert redis_client.llen("files") == 0  # no task without its job
        again = await client.post("/jobs", files={"file": table}, headers=headers)
        assert again.status_code == 202, again.text
        job_id = again.json()["id"]
        # The job's task was queued with it, once (no worker runs here)
        (message,) = [json.loads(m) for m in redis_client.lrange("files", 0, -1)]
        assert message["headers"]["id"] == job_id
        assert (await client.get(f"/jobs/{job_id}", headers=headers)).status_code == 200
        listed = (await client.get("/jobs", headers=headers)).json()["items"]
        assert [j["id"] for j in listed] == [job_id]

    run_in_process(settings, scenario)


def test_a_creation_whose_reply_was_lost_keeps_its_job_and_its_upload(
    settings: Settings,
    make_key: MakeKey,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Redis applies the MULTI that creates the job, then the connection drops before its reply
    # (a failover): with the Idempotency-Key watched, redis-py raises WatchError and the api
    # looks again. It finds the key claimed by this very job: before, it took the request for a
    # replay and removed the upload, so the queued job failed `upload_missing`.
    execute = aioredis.client.Pipeline.execute
    lost: list[bool] = []

    async def applied_then_lost(self: Any, raise_on_error: bool = True) -> Any:
        creation = self.watching and self.explicit_transaction and not lost
        replies = await execute(self, raise_on_error)
        if creation:
            lost.append(True)
            raise WatchError("A ConnectionError occurred while watching one or more keys")
        return replies

    monkeypatch.setattr(aioredis.client.Pipeline, "execute", applied_then_lost)
    headers = {"Authorization": f"Bearer {make_key()}", "Idempotency-Key": "lost-reply"}

    async def scenario(client: httpx.AsyncClient) -> None:
        answer = await client.post("/jobs", files={"file": ("t.csv", b"a\n1\n")}, headers=headers)
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["id"]
        record = redis_client.hgetall(job_key(job_id))
        assert record["status"] == "queued"
        assert upload_path(settings, record["stored"]).exists()  # the job's file is kept
        (message,) = [json.loads(m) for m in redis_client.lrange("files", 0, -1)]
        assert message["headers"]["id"] == job_id
        # and the quota holds its bytes as the job's, not as an upload in progress
        ledger = redis_client.hgetall(quota_ledger_key(record["owner"]))
        assert list(ledger) == [f"upload:{record['stored']}"]

    run_in_process(settings, scenario)
    assert lost == [True]


def test_orders_the_broker_refuses_to_match_are_accepted_stored_once_and_matched_later(
    settings: Settings,
    make_key: MakeKey,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Orders are written, then their matching task cannot be sent: the answer is still the
    # accept (a 5xx would invite a retry that places them twice), and the reconciler sends
    # matching once the broker is back.
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to the broker. Connection refused.")

    headers = {"Authorization": f"Bearer {make_key()}"}
    placed: dict[str, str] = {}

    async def place_while_refused(client: httpx.AsyncClient) -> None:
        buy = {"symbol": "BTC-USD", "side": "buy", "quantity": 2, "price": "100"}
        one = await client.post("/orders", json=buy, headers=headers)
        assert one.status_code == 201, one.text
        sell = {"symbol": "BTC-USD", "side": "sell", "quantity": 2, "price": "100"}
        rest = {"symbol": "ETH-USD", "side": "buy", "quantity": 1, "price": "10"}
        batch = await client.post("/orders/batch", json={"orders": [sell, rest]}, headers=headers)
        assert batch.status_code == 200, batch.text
        results = batch.json()["results"]
        assert [r["status"] for r in results] == ["accepted", "accepted"]
        placed.update(buy=one.json()["id"], sell=results[0]["order"]["id"])
        placed["rest"] = results[1]["order"]["id"]

    async def cancel_while_refused(client: httpx.AsyncClient) -> None:
        cancel = await client.delete(f"/orders/{placed['rest']}", headers=headers)
        assert cancel.status_code == 202, cancel.text

    async def statuses(client: httpx.AsyncClient) -> None:
        listed = (await client.get("/orders", headers=headers)).json()["items"]
        placed.update({f"status:{o['id']}": o["status"] for o in listed})
        assert sorted(o["id"] for o in listed) == sorted(placed[k] for k in ("buy", "sell", "rest"))

    monkeypatch.setattr(Celery, "send_task", refuse)
    run_in_process(settings, place_while_refused)
    monkeypatch.undo()
    # Stored once each: one command per order in its symbol's inbound log
    assert redis_client.xlen(inbound_key("BTC-USD")) == 2
    assert redis_client.xlen(inbound_key("ETH-USD")) == 1
    assert match_after_reconcile(settings, redis_client) == ["BTC-USD", "ETH-USD"]

    monkeypatch.setattr(Celery, "send_task", refuse)
    run_in_process(settings, cancel_while_refused)
    monkeypatch.undo()
    assert match_after_reconcile(settings, redis_client) == ["ETH-USD"]

    run_in_process(settings, statuses)
    assert [placed[f"status:{placed[k]}"] for k in ("buy", "sell", "rest")] == [
        "filled",
        "filled",
        "cancelled",
    ]
    # Each app's lifespan closed its one task sender: its thread is gone.
    assert not [t for t in threading.enumerate() if t.name.startswith("jobcast-send")]


def match_after_reconcile(settings: Settings, client: redis.Redis) -> list[str]:
    """Let a reconciler find the unmatched symbols and send their tasks through the real
    broker, then run each task's matching in-process; the symbols it matched, in order."""
    broker = Celery("test-client")
    broker.config_from_object(celeryconfig.config_for(settings))

    def send(name: str, arg: str, task_id: str | None, shown: str) -> None:
        broker.send_task(name, args=[arg], task_id=task_id, argsrepr=shown)

    reconciler = Reconciler(client, settings.model_copy(update={"reconcile_after": 0.0}), send)
    assert reconciler.tick() == []  # first seen: a task may be on its way
    reconciler.tick()
    reconciler.release()  # the next call's reconciler sweeps at once
    broker.close()
    matched = []
    while (raw := client.rpop("orders")) is not None:
        message = json.loads(raw)
        (symbol,) = json.loads(base64.b64decode(message["body"]))[0]
        drain(client, settings, symbol, message["headers"]["id"])
        matched.append(symbol)
    return sorted(matched)


def test_a_broker_error_no_route_handles_answers_the_documented_503(
    settings: Settings, make_key: MakeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to the broker. Connection refused.")

    monkeypatch.setattr(intake, "accept_orders", refuse)
    headers = {"Authorization": f"Bearer {make_key()}"}

    async def scenario(client: httpx.AsyncClient) -> None:
        order = {"symbol": "BTC-USD", "side": "buy", "quantity": 1, "price": "100"}
        refused = await client.post("/orders", json=order, headers=headers)
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "unavailable"
        assert refused.headers["Retry-After"] == "2"

    run_in_process(settings, scenario)
