"""Frames the server refuses, against a real api: a socket that keeps sending them is closed
4008; a client whose start-up subscribes are partly refused is not."""

from __future__ import annotations

import contextlib
import secrets

import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from jobcast.settings import Settings
from tests.conftest import SharedStack, module_stack
from tests.realtime.conftest import MakeKey
from tests.realtime.jobs import create_job
from tests.realtime.wsclient import Message, authed, recv, recv_until, send

stack = module_stack()

#: The red team's frame: 40 KB nested 20,000 deep.
DEEP = "[" * 20_000 + "]" * 20_000


@pytest.fixture
def base(stack: SharedStack) -> str:
    return stack.url


@pytest.fixture
def settings(stack: SharedStack) -> Settings:
    return stack.settings


def answers_until_closed(ws: ClientConnection) -> tuple[list[Message], ConnectionClosed]:
    seen: list[Message] = []
    while True:
        try:
            seen.append(recv(ws, timeout=10))
        except ConnectionClosed as closed:
            return seen, closed


def test_a_socket_sending_refused_frames_fast_is_closed_4008(
    base: str, settings: Settings, make_principal: MakeKey
) -> None:
    burst = settings.ws_refused_frames_burst
    key, _ = make_principal()
    with authed(base, key) as ws:
        with contextlib.suppress(ConnectionClosed):  # it may be closed before the last is sent
            for n in range(burst + 100):
                ws.send(DEEP if n % 2 else '{"type": "nope"}')
        seen, closed = answers_until_closed(ws)
    refused = [m for m in seen if m.get("code") in ("bad_json", "unknown_type")]
    # The burst, and what refilled while the frames were sent (well under a second).
    assert burst <= len(refused) <= burst + 5
    assert seen[-1]["code"] == "too_many_refused_frames", seen[-1]
    assert closed.rcvd is not None
    assert (closed.rcvd.code, closed.rcvd.reason) == (4008, "too_many_refused_frames")


def test_a_client_subscribing_at_start_is_not_closed_though_half_its_jobs_are_gone(
    base: str, make_principal: MakeKey, redis_client: redis.Redis
) -> None:
    # A client reconnecting with 100 jobs, 100 more of which expired meanwhile (not_found).
    key, owner = make_principal()
    live = [create_job(redis_client, owner) for _ in range(100)]
    gone = ["j_" + secrets.token_hex(12) for _ in range(100)]
    with authed(base, key) as ws:
        for job in [j for pair in zip(live, gone, strict=True) for j in pair]:
            send(ws, type="subscribe", channel=f"job.{job}", id=job)
        answers = recv_until(ws, lambda m: m.get("ref") == gone[-1], timeout=30)
        send(ws, type="ping", id="after")
        assert recv_until(ws, lambda m: m.get("type") == "pong")[-1]["ref"] == "after"
    by_ref = {m["ref"]: m for m in answers if m.get("type") in ("subscribed", "error")}
    assert {by_ref[j]["type"] for j in live} == {"subscribed"}
    assert {by_ref[j].get("code") for j in gone} == {"not_found"}
