"""The per-principal WebSocket limit, shared by api processes and freed by a dead one."""

from __future__ import annotations

import signal
import time

import httpx
import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from jobcast.rediskeys import ws_connections_key
from tests.conftest import StartApi
from tests.realtime.conftest import MakeKey
from tests.realtime.wsclient import authed, open_ws, recv, send
from tests.support.processes import Proc, started_together, wait_for

TTL = 2.0
LIMIT_ENV = {
    "JOBCAST_WS_MAX_CONNECTIONS_PER_PRINCIPAL": "2",
    "JOBCAST_WS_CONNECTION_TTL": str(TTL),
}


def assert_refused(ws: ClientConnection) -> None:
    """The connection gets `too_many_connections`, naming the limit, then close 4029."""
    answer = recv(ws)
    assert answer["code"] == "too_many_connections", answer
    assert "2 WebSocket connections" in answer["message"]
    with pytest.raises(ConnectionClosed) as closed:
        recv(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4029
    assert closed.value.rcvd.reason == "too_many_connections"  # it was empty


def refused_with_key(base: str, key: str) -> None:
    with open_ws(base) as ws:
        send(ws, type="auth", key=key)
        assert_refused(ws)


def authed_once_allowed(base: str, key: str, timeout: float) -> ClientConnection:
    """Retry a refused connection until it is let in (refusals do not count)."""
    deadline = time.monotonic() + timeout
    while True:
        ws = open_ws(base)
        send(ws, type="auth", key=key)
        answer = recv(ws)
        if answer["type"] == "auth.ok":
            return ws
        ws.close()
        assert answer["code"] == "too_many_connections", answer
        assert time.monotonic() < deadline, f"still refused after {timeout} s"
        time.sleep(0.2)


def test_a_third_connection_is_refused_until_one_of_the_two_closes(
    start_api: StartApi, make_principal: MakeKey, redis_client: redis.Redis
) -> None:
    _, base = start_api(env=LIMIT_ENV)
    (key, pid), (other_key, _) = make_principal("greedy"), make_principal("bystander")
    first, second = authed(base, key), authed(base, key)

    refused_with_key(base, key)
    ticket = httpx.post(f"{base}/ws/ticket", headers={"Authorization": f"Bearer {key}"})
    with open_ws(base, f"/ws?ticket={ticket.json()['ticket']}") as by_ticket:
        assert_refused(by_ticket)
    with authed(base, other_key), authed(base, other_key):
        pass  # another principal has places of its own

    first.close()
    wait_for(lambda: redis_client.zcard(ws_connections_key(pid)) == 1, 5, "the closed one to leave")
    with authed(base, key):
        refused_with_key(base, key)
    second.close()


def two_apis(start_api: StartApi) -> list[tuple[Proc, str]]:
    """Two api processes with the limit, started together."""
    started: list[tuple[Proc, str]] = []
    started_together(*[lambda: started.append(start_api(env=LIMIT_ENV))] * 2)
    return started


@pytest.mark.slow
def test_the_limit_holds_across_api_processes(start_api: StartApi, make_principal: MakeKey) -> None:
    (_, api_a), (_, api_b) = two_apis(start_api)
    key, _ = make_principal()
    on_a, on_b = authed(api_a, key), authed(api_b, key)
    refused_with_key(api_a, key)
    refused_with_key(api_b, key)
    on_b.close()
    with authed_once_allowed(api_a, key, 5):
        refused_with_key(api_b, key)
    on_a.close()


@pytest.mark.slow
def test_connections_of_a_dead_api_process_stop_counting_after_the_ttl(
    start_api: StartApi, make_principal: MakeKey
) -> None:
    (proc_a, api_a), (_, api_b) = two_apis(start_api)
    key, _ = make_principal()
    on_a = [authed(api_a, key), authed(api_a, key)]
    time.sleep(TTL * 1.5)  # past the TTL: only the ticker's refreshes keep A's two counted
    refused_with_key(api_b, key)

    proc_a.kill_group(signal.SIGKILL)  # A dies without removing anything
    refused_with_key(api_b, key)
    started = time.monotonic()
    on_b = [authed_once_allowed(api_b, key, TTL + 5), authed_once_allowed(api_b, key, 5)]
    assert time.monotonic() - started >= TTL / 2  # freed by expiry, not at once
    refused_with_key(api_b, key)
    for ws in (*on_b, *on_a):
        ws.close()
