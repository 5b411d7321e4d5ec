"""The monitor: one `monitor.sample` per second from one producer, with real figures."""

from __future__ import annotations

import itertools
import json
import time

import pytest
import redis
from celery import Celery

import celeryconfig
from jobcast.keys import create_key
from jobcast.settings import Settings
from tests.conftest import StartApi, StartWorker
from tests.realtime.conftest import MakeKey
from tests.realtime.wsclient import Message, open_ws, recv, send


def samples_for(ws: object, seconds: float) -> list[Message]:
    found: list[Message] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = recv(ws, 3)  # type: ignore[arg-type]
        if message["type"] == "monitor.sample":
            found.append(message)
    return found


@pytest.mark.slow
def test_one_sample_per_second_from_one_producer_with_two_api_processes(
    start_api: StartApi,
    start_worker: StartWorker,
    make_principal: MakeKey,
    settings: Settings,
    redis_client: redis.Redis,
) -> None:
    _, api_a = start_api()
    _, api_b = start_api()
    start_worker(queues="orders", include=["tests.workers.sample_tasks"])
    sender = Celery("monitor-test")
    sender.config_from_object(celeryconfig.config_for(settings))
    for n in range(3):
        sender.send_task("jobcast.test.touch", args=[f"monitor-{n}"], queue="orders")
    key, _ = make_principal()
    admin_key, _ = create_key(redis_client, settings.secret("key_secret"), "ops", admin=True)
    with open_ws(api_a, "/ws/monitor") as ws_a, open_ws(api_b, "/ws/monitor") as ws_b:
        for ws, key_ in ((ws_a, admin_key), (ws_b, key)):
            send(ws, type="auth", key=key_)
            assert recv(ws)["type"] == "auth.ok"
        recv(ws_b)  # subscribed
        samples = samples_for(ws_a, 5.2)
        other = samples_for(ws_b, 1.5)

    # About one per second, never two in the same second (two producers would interleave).
    assert len(samples) >= 4, [s["ts"] for s in samples]
    gaps = [b["ts"] - a["ts"] for a, b in itertools.pairwise(samples)]
    assert all(0.7 <= g <= 1.3 for g in gaps), gaps
    assert len({s["data"]["producer"] for s in samples}) == 1
    last = samples[-1]["data"]
    assert len(last["api"]) == 2
    assert last["ws_connections"] == 2
    host = next(iter(last["hosts"].values()))
    assert 0 <= host["cpu_percent"] <= 100
    assert host["memory_used_bytes"] > 0
    assert set(last["queues"]) == {"files", "orders"}
    assert last["workers_online"] == 1
    assert len(last["worker_processes"]) == 1
    assert last["tasks"]["finished_total"] == 3
    changing = {
        (h["memory_used_bytes"], h["net_in_bytes_per_s"], h["cpu_percent"])
        for s in samples
        for h in s["data"]["hosts"].values()
    }
    assert len(changing) > 1
    # A principal that is not an admin sees the cluster's totals, never host names or pids.
    totals = other[-1]["data"]
    assert totals["hosts"]["count"] == len(last["hosts"])
    assert totals["api"]["processes"] == 2
    assert totals["worker_processes"]["count"] == 1
    assert totals["ws_connections"] == 2
    assert totals["tasks"]["finished_total"] == 3
    text = json.dumps(other)
    assert "producer" not in text
    assert not any(host in text for host in last["hosts"])
    assert not any(f'"pid": {p["pid"]}' in text for p in last["api"])
