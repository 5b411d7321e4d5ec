"""A WebSocket client that stops reading, and never closes, is dropped once the server gives up on
it: its session ends and gives back its subscriptions, its send budget and its place in the
principal's count. Before, the close waited for frames the client would never read: the session
held all of that for as long as the client's TCP stack kept answering."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import struct
import time
from urllib.parse import urlsplit

import httpx
import redis

from jobcast import scripts
from jobcast.events import Commit, Event
from jobcast.rediskeys import no_record_key, ws_connections_key
from tests.conftest import MakePrincipal, StartApi
from tests.support.processes import market_symbols, wait_for

#: uvicorn's keepalive, shortened through its own environment variables (its `--ws-ping-*`): the
#: first ping leaves time to fill the socket's buffers before it goes unanswered.
QUICK_PINGS = {"UVICORN_WS_PING_INTERVAL": "2", "UVICORN_WS_PING_TIMEOUT": "0.5"}
#: Frames for it: past the socket buffers (Linux's grow to 4 MiB), far under its send queue
#: (1,024 frames, 32 MiB), so the server is left holding frames the client will never read.
TRADES, PAD = 300, "x" * 20_000


def publish_trades(client: redis.Redis, channel: str) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(TRADES):
        event = Event(channel, "market.trade", {"i": i, "pad": PAD})
        change = Commit(no_record_key(channel), {}, [event])
        scripts.run(pipe, "commit", change.keys(), change.args())
    pipe.execute()


def masked_text(payload: bytes) -> bytes:
    assert len(payload) < 126
    return struct.pack("!BB", 0x81, 0x80 | len(payload)) + bytes(4) + payload  # mask 0


def never_reading_subscriber(base_url: str, key: str, channel: str) -> socket.socket:
    """A WebSocket opened by hand on a tiny receive buffer, authenticated and subscribed to
    `channel`; nothing is read after the subscription's answer."""
    parts = urlsplit(base_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((parts.hostname, parts.port))
    sock.settimeout(5)
    nonce = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /ws HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {nonce}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    read_until(sock, b"\r\n\r\n")  # frames may follow the upgrade's answer only
    sock.sendall(masked_text(json.dumps({"type": "auth", "key": key}).encode()))
    sock.sendall(masked_text(json.dumps({"type": "subscribe", "channel": channel}).encode()))
    read_until(sock, b'"subscribed"')
    return sock


def read_until(sock: socket.socket, mark: bytes) -> None:
    heard = b""
    while mark not in heard:
        data = sock.recv(4096)
        assert data, heard
        heard += data


def gauge(base_url: str, name: str) -> float:
    exposed = httpx.get(f"{base_url}/metrics").text
    return float(next(x for x in exposed.splitlines() if x.startswith(f"{name} ")).split()[1])


def test_a_subscriber_that_stops_reading_is_dropped_and_gives_everything_back(
    start_api: StartApi, make_principal: MakePrincipal, redis_client: redis.Redis
) -> None:
    env = {**QUICK_PINGS, "JOBCAST_WS_CLOSE_TIMEOUT": "1", **market_symbols("DEAF")}
    _, base = start_api(env=env)
    key, principal = make_principal()
    with contextlib.closing(never_reading_subscriber(base, key, "market.DEAF")) as sock:
        assert gauge(base, "jobcast_ws_subscriptions") == 1
        started = time.monotonic()
        publish_trades(redis_client, "market.DEAF")
        wait_for(lambda: gauge(base, "jobcast_ws_connections") == 0, 10, "the socket dropped")
        assert time.monotonic() - started < 5  # a ping, its timeout, the close's grace
        assert gauge(base, "jobcast_ws_subscriptions") == 0
        assert redis_client.zcard(ws_connections_key(principal)) == 0
        assert sock.fileno() >= 0  # the client itself never closed
