"""Whole system: a job submitted through api B, run by either of two workers, pushed to a
client on api A — in order, each event once — and resumable with `since`."""

from __future__ import annotations

import io

import pytest
import redis

from jobcast.client import Client
from jobcast.events import read_since
from jobcast.keys import create_key
from jobcast.settings import Settings
from tests.conftest import SharedStack, module_stack
from tests.realtime.wsclient import Message, authed, is_event, recv, recv_until, subscribe

WORKER_ENV = {"JOBCAST_JOB_PROGRESS_INTERVAL": "0.01"}
TERMINAL = ("job.succeeded", "job.failed", "job.cancelled")

#: Two api processes and two files workers, shared by the module's tests (each its own principal).
stack = module_stack(worker_queues="files", worker_env=WORKER_ENV, apis=2, workers=2)


@pytest.fixture
def settings(stack: SharedStack) -> Settings:
    return stack.settings


def table(rows: int) -> bytes:
    lines = ["id,name,amount,city"] + [
        f"{i},name{i % 97},{i * 0.5},city{i % 13}" for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def submit(base_url: str, key: str, data: bytes) -> str:
    with Client(base_url, key) as client:
        return client.submit_file(io.BytesIO(data)).id


def job_events(messages: list[Message], job_id: str) -> list[Message]:
    return [m for m in messages if is_event(m) and m["data"].get("job_id") == job_id]


@pytest.mark.slow
def test_job_events_reach_a_client_on_another_api_process_in_order_once(
    stack: SharedStack, settings: Settings, redis_client: redis.Redis
) -> None:
    api_a, api_b = stack.urls
    key, info = create_key(redis_client, settings.secret("key_secret"), "e2e")

    with authed(api_a, key) as ws:
        subscribe(ws, "user.me")
        job_id = submit(api_b, key, table(300_000))
        seen = recv_until(
            ws,
            lambda m: m.get("type") in TERMINAL and m["data"].get("job_id") == job_id,
            timeout=60,
        )
    got = job_events(seen, job_id)
    committed = [
        e
        for e in read_since(redis_client, f"user.{info.principal_id}", "0-0")
        if e["data"].get("job_id") == job_id
    ]
    assert [e["seq"] for e in got] == [e["seq"] for e in committed]
    assert len({e["seq"] for e in got}) == len(got)
    types = [e["type"] for e in got]
    assert types[0] == "job.queued"
    assert types[-1] == "job.succeeded"
    assert "job.progress" in types

    # Subscribing after completion: the snapshot carries the result.
    with authed(api_b, key) as ws:
        subscribe(ws, f"job.{job_id}")
        snapshot = recv(ws)
    assert snapshot["data"]["status"] == "succeeded"
    assert snapshot["data"]["result"] is not None


@pytest.mark.slow
def test_a_client_that_reconnects_mid_job_with_since_misses_nothing(
    stack: SharedStack, settings: Settings, redis_client: redis.Redis
) -> None:
    api_a, api_b = stack.urls
    key, _ = create_key(redis_client, settings.secret("key_secret"), "e2e")

    job_id = submit(api_b, key, table(600_000))
    with authed(api_a, key) as ws:
        subscribe(ws, f"job.{job_id}", since="0-0")  # from the job's first event
        had = [
            m
            for m in recv_until(
                ws, lambda m: m.get("type") in ("job.progress", *TERMINAL), timeout=60
            )
            if is_event(m)
        ]
    assert had[-1]["type"] == "job.progress"  # disconnected mid-job
    with authed(api_b, key) as ws:
        subscribe(ws, f"job.{job_id}", since=had[-1]["seq"])
        rest = [
            m
            for m in recv_until(ws, lambda m: m.get("type") in TERMINAL, timeout=60)
            if is_event(m)
        ]
    everything = read_since(redis_client, f"job.{job_id}", "0-0")
    assert [e["seq"] for e in had + rest] == [e["seq"] for e in everything]
    assert everything[0]["type"] == "job.queued"
    assert rest[-1]["type"] == "job.succeeded"
