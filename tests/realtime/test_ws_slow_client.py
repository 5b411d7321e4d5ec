"""A client that stops reading is closed with 4008; others on the process get everything."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from urllib.parse import urlsplit

import httpx
import psutil
import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from jobcast import rediskeys, scripts
from jobcast.events import Commit, Event
from realtime.protocol import CLOSE_SLOW_CLIENT
from tests.conftest import StartApi
from tests.realtime.conftest import MakeKey
from tests.realtime.jobs import create_job, progress, succeed
from tests.realtime.wsclient import authed, recv, subscribe
from tests.support.processes import market_symbols

EVENTS = 10_000
PAYLOAD = "x" * 1000  # 10 MB in all: more than socket buffers can hide


def publish_many(client: redis.Redis, channel: str, count: int, batch: int = 250) -> None:
    for start in range(0, count, batch):
        pipe = client.pipeline(transaction=False)
        for i in range(start, min(count, start + batch)):
            change = Commit(
                rediskeys.no_record_key(channel),
                {},
                [Event(channel, "market.trade", {"i": i, "pad": PAYLOAD})],
            )
            scripts.run(pipe, "commit", change.keys(), change.args())
        pipe.execute()


def small_buffer_socket(base_url: str) -> socket.socket:
    """A client socket with a tiny receive buffer, so not reading is felt by the server at once."""
    parts = urlsplit(base_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((parts.hostname, parts.port))
    return sock


def read_until_closed(ws: ClientConnection, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ws.recv(timeout=5)


@pytest.mark.slow
def test_a_client_that_never_reads_is_closed_and_does_not_hurt_the_others(
    start_api: StartApi, make_principal: MakeKey, redis_client: redis.Redis
) -> None:
    # A queue of 2,048 (~2 MB here) leaves the reading client room on a loaded test box; the
    # 10 MB published are still far more than the queue and the socket buffers can hide.
    # SLOW is a symbol of this api only, so no other test's market events reach the channel.
    proc, base = start_api(
        env={
            "JOBCAST_WS_SEND_QUEUE": "2048",
            **market_symbols("SLOW"),
        }
    )
    key, _ = make_principal()
    server = psutil.Process(proc.popen.pid)
    channel = "market.SLOW"
    fast = authed(base, key)
    subscribe(fast, channel)
    slow = authed(base, key, sock=small_buffer_socket(base), max_queue=4)
    subscribe(slow, channel)
    rss_before = server.memory_info().rss
    received: list[int] = []

    def read_fast() -> None:
        while len(received) < EVENTS:
            message = recv(fast, 30)
            if message.get("type") == "market.trade":
                received.append(message["data"]["i"])

    reader = threading.Thread(target=read_fast)
    reader.start()
    publish_many(redis_client, channel, EVENTS)
    reader.join(60)
    rss_after = server.memory_info().rss

    assert received == list(range(EVENTS))
    assert rss_after - rss_before < 50 * 1024 * 1024, (rss_before, rss_after)
    with pytest.raises(ConnectionClosed) as closed:
        read_until_closed(slow)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == CLOSE_SLOW_CLIENT
    fast.close()
    exposed = httpx.get(f"{base}/metrics").text
    assert "jobcast_ws_slow_client_disconnects_total 1.0" in exposed
    delivered = next(
        line
        for line in exposed.splitlines()
        if line.startswith("jobcast_ws_events_delivered_total ")
    )
    assert float(delivered.split()[1]) >= EVENTS
    assert "jobcast_ws_delivery_delay_seconds_bucket" in exposed


def slow_client_disconnects(base_url: str) -> float:
    exposed = httpx.get(f"{base_url}/metrics").text
    line = next(x for x in exposed.splitlines() if x.startswith("jobcast_ws_slow_client_disc"))
    return float(line.split()[1])


def wait_for_slow_client_disconnect(base_url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while slow_client_disconnects(base_url) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.mark.slow
def test_a_client_that_never_reads_its_big_snapshots_is_closed_before_they_fill_the_api(
    start_api: StartApi, make_principal: MakeKey, redis_client: redis.Redis
) -> None:
    # Each subscribe to its own finished job queues a snapshot carrying the whole result, three
    # frames a round: far under the 1,024-frame queue, while 120 rounds queued 120 MB.
    budget = 4 * 1024**2
    proc, base = start_api(
        env={
            "JOBCAST_WS_SEND_QUEUE_BYTES": str(budget),
            "JOBCAST_JOB_MAX_RESULT_BYTES": str(1024**2),
        }
    )
    key, owner = make_principal()
    job_id = create_job(redis_client, owner)
    progress(redis_client, job_id, owner, 50.0)
    succeed(redis_client, job_id, owner, {"pad": "x" * 1_000_000})
    server = psutil.Process(proc.popen.pid)
    slow = authed(base, key, sock=small_buffer_socket(base), max_queue=4)
    rss_before = server.memory_info().rss

    channel = f"job.{job_id}"
    with contextlib.suppress(ConnectionClosed, OSError):  # closed as too slow: sends may fail
        for _ in range(120):
            slow.send(json.dumps({"type": "subscribe", "channel": channel}))
            slow.send(json.dumps({"type": "unsubscribe", "channel": channel}))
    wait_for_slow_client_disconnect(base)
    rss_after = server.memory_info().rss

    assert rss_after - rss_before < 40 * 1024**2, (rss_before, rss_after)
    assert slow_client_disconnects(base) == 1
    with pytest.raises(ConnectionClosed) as closed:
        read_until_closed(slow)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == CLOSE_SLOW_CLIENT


@pytest.mark.slow
def test_sockets_of_one_principal_that_never_read_share_one_budget_and_others_go_on(
    start_api: StartApi, make_principal: MakeKey, redis_client: redis.Redis
) -> None:
    # The smallest snapshot the settings allow (64 KiB of result, 1 KiB bodies) times 30: a
    # principal's budget of ~2 MB, each socket's own as large (the least the budget may be), so
    # the budget the three silent sockets share closes them before any one's own queue fills.
    snapshot = 64 * 1024 + 3 * 1024
    _, base = start_api(
        env={
            "JOBCAST_WS_SEND_QUEUE": "100000",
            "JOBCAST_JOB_MAX_RESULT_BYTES": str(64 * 1024),
            "JOBCAST_MAX_JSON_BODY_BYTES": "1024",
            "JOBCAST_WS_MAX_CONNECTIONS_PER_PRINCIPAL": "30",
            "JOBCAST_WS_SEND_QUEUE_BYTES": str(30 * snapshot),
            "JOBCAST_WS_SEND_QUEUE_BYTES_PER_PRINCIPAL": str(30 * snapshot),
            **market_symbols("TENANT"),
        }
    )
    silent_key, _ = make_principal()
    reading_key, _ = make_principal()
    channel = "market.TENANT"
    silent = []
    for _ in range(3):
        ws = authed(base, silent_key, sock=small_buffer_socket(base), max_queue=4)
        subscribe(ws, channel)
        silent.append(ws)
    reading = authed(base, reading_key)
    subscribe(reading, channel)
    received: list[int] = []

    def read_all() -> None:
        while len(received) < EVENTS:
            message = recv(reading, 30)
            if message.get("type") == "market.trade":
                received.append(message["data"]["i"])

    reader = threading.Thread(target=read_all)
    reader.start()
    publish_many(redis_client, channel, EVENTS)
    reader.join(60)

    assert received == list(range(EVENTS))
    for ws in silent:
        with pytest.raises(ConnectionClosed) as closed:
            read_until_closed(ws)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == CLOSE_SLOW_CLIENT
    assert slow_client_disconnects(base) == 3
    reading.close()
