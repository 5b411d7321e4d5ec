"""The monitor: one `monitor.sample` per second from one producer, with real figures."""

from __future__ import annotations

import itertools
import json
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from celery import Celery

import celeryconfig
from jobcast.keys import create_key
from jobcast.rediskeys import MONITOR_LEASE_KEY, PROCESSES_KEY
from jobcast.settings import Settings
from tests.conftest import StartApi, StartWorker
from tests.realtime.conftest import MakeKey
from tests.realtime.wsclient import Message, authed, open_ws, recv, send
from tests.support.processes import Proc, started_together, wait_for


def samples_for(ws: object, seconds: float) -> list[Message]:
    """The samples among the messages read for `seconds` (one at least)."""
    found: list[Message] = []
    deadline = time.monotonic() + seconds
    while not found or time.monotonic() < deadline:
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
    apis: list[str] = []
    started_together(
        lambda: apis.append(start_api()[1]),
        lambda: apis.append(start_api()[1]),
        lambda: start_worker(queues="orders", include=["tests.workers.sample_tasks"]),
    )
    api_a, api_b = apis
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
        other = samples_for(ws_b, 0.5)  # those that came meanwhile, and maybe one more

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


#: Slow worker heartbeats: a report ages out only after 50 s (`jobcast.figures.stale_after`), a
#: worker's registry entry after 30 s, so a dead process's entry going sooner was dropped.
SLOW_AGING = {"JOBCAST_WORKER_HEARTBEAT_INTERVAL": "10"}


def sample_where(
    ws: Any, wanted: Callable[[dict[str, Any]], bool], seconds: float
) -> dict[str, Any]:
    """The first admin sample within `seconds` for which `wanted` holds (fails with the last)."""
    last: dict[str, Any] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            message = recv(ws, 1)
        except TimeoutError:  # no producer for a moment (a lease taken over)
            continue
        if message["type"] == "monitor.sample":
            last = message["data"]
            if wanted(last):
                return last
    raise AssertionError(f"no such sample within {seconds} s; the last: {last}")


def counts(sample: dict[str, Any]) -> tuple[int, int, int, int]:
    apis, workers = sample["api"], sample["worker_processes"]
    return len(apis), sample["ws_connections"], sample["workers_online"], len(workers)


@pytest.mark.slow
def test_a_worker_killed_and_started_again_is_counted_once(
    start_api: StartApi, start_worker: StartWorker, settings: Settings, redis_client: redis.Redis
) -> None:
    urls: list[str] = []
    firsts: list[Proc] = []
    started_together(
        lambda: urls.append(start_api(env=SLOW_AGING)[1]),
        lambda: firsts.append(start_worker(queues="orders", name="phoenix", env=SLOW_AGING)),
    )
    [url], [first] = urls, firsts
    admin_key, _ = create_key(redis_client, settings.secret("key_secret"), "ops", admin=True)
    with authed(url, admin_key, "/ws/monitor") as ws:
        sample_where(ws, lambda s: counts(s) == (1, 1, 1, 1), 5)
        first.kill()  # kill -9: no shutdown takes its entries out
        again = start_worker(queues="orders", name="phoenix", env=SLOW_AGING)
        # Its first report is in by now; the dead one's went with its name, not 30-50 s later.
        sample = sample_where(ws, lambda s: bool(s["worker_processes"]), 3)
    assert counts(sample) == (1, 1, 1, 1)
    assert sample["worker_processes"][0]["pid"] == again.popen.pid


@pytest.mark.slow
def test_an_api_process_killed_stops_counting_at_once(
    start_api: StartApi, settings: Settings, redis_client: redis.Redis
) -> None:
    started: list[tuple[Proc, str]] = []
    started_together(*[lambda: started.append(start_api(env=SLOW_AGING))] * 2)
    (_, url_a), (b, url_b) = started
    admin_key, _ = create_key(redis_client, settings.secret("key_secret"), "ops", admin=True)
    with authed(url_a, admin_key, "/ws/monitor") as ws:
        on_b = [authed(url_b, admin_key) for _ in range(3)]
        sample_where(ws, lambda s: counts(s)[:2] == (2, 4), 5)
        b.kill()  # kill -9: its report (3 connections) stays in Redis
        # Within a lease's expiry (if b was the producer) and a tick: not when it ages out.
        sample = sample_where(ws, lambda s: counts(s)[:2] == (1, 1), 6)
        for conn in on_b:
            conn.socket.close()
    assert [p["pid"] for p in sample["api"]] != [b.popen.pid]


def test_an_api_process_drops_its_hosts_dead_reports_as_it_starts(
    start_api: StartApi, redis_client: redis.Redis
) -> None:
    # The producer may be on another host, which cannot judge this host's processes: the one
    # started here does (as it is when a killed api process is started again).
    host = socket.gethostname()
    redis_client.set(MONITOR_LEASE_KEY, "api:elsewhere:1:abc", px=60_000)
    dead = {"kind": "api", "host": host, "pid": os.getpid(), "started": 1.0, "ts": time.time()}
    unknown = {**dead, "host": "elsewhere"}
    redis_client.hset(PROCESSES_KEY, mapping={"api:dead": json.dumps(dead)})
    redis_client.hset(PROCESSES_KEY, mapping={"api:unknown": json.dumps(unknown)})
    proc, _ = start_api()

    def reported() -> bool:
        return f"api:{host}:{proc.popen.pid}" in redis_client.hkeys(PROCESSES_KEY)

    wait_for(reported, 5, "the api's report")
    assert set(redis_client.hkeys(PROCESSES_KEY)) == {f"api:{host}:{proc.popen.pid}", "api:unknown"}
