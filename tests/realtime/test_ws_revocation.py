"""Revoking a key ends its sessions: its WebSockets on every api process, and its tickets."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import httpx
import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from jobcast.keys import create_key, revoke_key
from jobcast.rediskeys import API_KEYS_KEY, KEY_REVOKED_CHANNEL, api_key_lookup_key
from jobcast.settings import Settings
from tests.conftest import StartApi
from tests.realtime.wsclient import authed, open_ws, recv, recv_until, send, subscribe
from tests.support.processes import REPO_ROOT, wait_for


def closed_as_revoked(ws: ClientConnection, within: float) -> float:
    """Wait for `key_revoked` and the 4001 close; returns how long it took."""
    started = time.monotonic()
    errors = recv_until(ws, lambda m: m.get("type") == "error", timeout=within)
    assert errors[-1]["code"] == "key_revoked", errors
    with pytest.raises(ConnectionClosed) as closed:
        recv_until(ws, lambda m: False, timeout=within)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4001, "key_revoked")
    return time.monotonic() - started


def test_revoking_a_key_closes_its_sockets_on_every_api_process_and_voids_its_tickets(
    start_api: StartApi, redis_client: redis.Redis, settings: Settings
) -> None:
    proc_a, api_a = start_api()
    _, api_b = start_api()
    secret = settings.secret("key_secret")
    key, info = create_key(redis_client, secret, "leaker")
    same_principal = {"principal_id": info.principal_id}
    other_key, _ = create_key(redis_client, secret, "second key", **same_principal)
    admin_key, _ = create_key(redis_client, secret, "ops", admin=True)
    on_a, on_b, unaffected = authed(api_a, key), authed(api_b, key), authed(api_b, other_key)
    subscribe(on_a, "chat.lobby")
    ticket = httpx.post(f"{api_a}/ws/ticket", headers={"Authorization": f"Bearer {key}"}).json()

    as_admin = {"Authorization": f"Bearer {admin_key}"}
    revoked = httpx.delete(f"{api_a}/admin/keys/{info.key_id}", headers=as_admin)
    assert revoked.status_code == 204
    assert closed_as_revoked(on_a, 5) < 5
    assert closed_as_revoked(on_b, 5) < 5
    admin_id = redis_client.hget(API_KEYS_KEY, admin_key.split("_")[1]) or ""
    by = f"API key {info.key_id} revoked by admin {json.loads(admin_id)['principal_id']} "
    assert by in proc_a.output()

    # The principal's other key is not revoked: its socket lives on.
    send(unaffected, type="ping", id=1)
    assert recv(unaffected) == {"type": "pong", "ref": 1}
    with open_ws(api_b, f"/ws?ticket={ticket['ticket']}") as ws:
        assert recv(ws)["code"] == "invalid_ticket"
        with pytest.raises(ConnectionClosed) as closed:
            recv(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4001
    unaffected.close()


def test_a_revocation_missed_on_pub_sub_still_closes_the_socket_at_the_next_check(
    start_api: StartApi, redis_client: redis.Redis, settings: Settings
) -> None:
    # A connection TTL of 3 s makes the ticker (and its key re-check) run every second.
    _, base = start_api(env={"JOBCAST_WS_CONNECTION_TTL": "3"})
    key, info = create_key(redis_client, settings.secret("key_secret"), "quiet")
    ws = authed(base, key)
    # As if the revocation was published while this process's pub/sub was reconnecting.
    stored = json.loads(redis_client.hget(API_KEYS_KEY, info.key_id) or "{}")
    redis_client.hset(API_KEYS_KEY, info.key_id, json.dumps({**stored, "revoked": True}))
    assert closed_as_revoked(ws, 5) < 5


def test_revoking_from_the_shell_announces_the_key_to_every_api_process(
    redis_client: redis.Redis, settings: Settings
) -> None:
    _, info = create_key(redis_client, settings.secret("key_secret"), "cli")
    listener = redis_client.pubsub()
    listener.subscribe(KEY_REVOKED_CHANNEL)
    assert listener.get_message(timeout=5)["type"] == "subscribe"

    assert revoke_key(redis_client, info.key_id)  # what `jobcast keys revoke` does

    message = listener.get_message(timeout=5)
    assert message is not None
    assert (message["type"], message["data"]) == ("message", info.key_id)
    listener.close()


def test_a_revocation_and_each_websocket_it_ends_are_logged_by_the_api_without_the_key(
    start_api: StartApi, redis_client: redis.Redis, settings: Settings
) -> None:
    # uvicorn's `"WebSocket /ws" [accepted]` was all: no line said whose socket closed, or why,
    # and a revocation from the shell left nothing in any log.
    proc, base = start_api()
    key, info = create_key(redis_client, settings.secret("key_secret"), "audited")
    ws = authed(base, key)
    assert revoke_key(redis_client, info.key_id)  # what `jobcast keys revoke` does
    closed_as_revoked(ws, 5)

    heard = f"INFO jobcast.audit: API key {info.key_id} revoked: principal {info.principal_id}"
    wait_for(lambda: heard in proc.output(), 10, "the revocation's line", proc)
    wait_for(lambda: "WebSocket closed" in proc.output(), 10, "the socket's close line", proc)
    lines = proc.output().splitlines()
    (line,) = [x for x in lines if heard in x]
    assert line.endswith("(name 'audited'); 1 WebSocket session(s) of it closed here"), line
    (closed,) = [x for x in lines if "WebSocket closed" in x]
    assert re.search(
        rf"INFO jobcast\.realtime: WebSocket closed: code=4001 reason=key_revoked "
        rf"principal={info.principal_id} duration=\d+\.\ds session=[0-9a-f]{{16}}$",
        closed,
    ), closed
    assert key.split("_", 2)[2] not in proc.output()
    # Its start is one line, uvicorn's, as README's Logs section shows it: the websockets
    # library's "connection open" and "connection closed" (no address, no path, no session)
    # doubled every socket's lines in a reconnect storm and said nothing these two do not.
    (opened,) = [x for x in lines if "WebSocket /ws" in x]
    assert re.search(r'INFO uvicorn\.error: [0-9.:]+ - "WebSocket /ws" \[accepted\]$', opened)
    assert "connection open" not in proc.output()
    assert "connection closed" not in proc.output()


def test_a_websocket_the_client_closes_is_logged_with_its_code(
    start_api: StartApi, redis_client: redis.Redis, settings: Settings
) -> None:
    proc, base = start_api()
    key, info = create_key(redis_client, settings.secret("key_secret"), "leaving")
    ws = authed(base, key)
    ws.close(code=1000, reason="bye")
    wait_for(lambda: "WebSocket closed" in proc.output(), 10, "the socket's close line", proc)
    (closed,) = [x for x in proc.output().splitlines() if "WebSocket closed" in x]
    assert f"code=1000 reason=bye principal={info.principal_id} " in closed, closed


#: A client that authenticates, says so, and waits to be killed.
CLIENT_THAT_WAITS = """
import sys, time
from tests.realtime.wsclient import authed
ws = authed(sys.argv[1], sys.argv[2])
print("authenticated", flush=True)
time.sleep(60)
"""


def test_a_websocket_whose_client_died_is_logged_1006_and_one_closed_without_a_code_1005(
    start_api: StartApi, redis_client: redis.Redis, settings: Settings
) -> None:
    # A killed client sends no close frame: RFC 6455 calls that 1006 (abnormal closure), as
    # README says, but the log said 1005, which is a close frame that carried no code.
    proc, base = start_api()
    key, _ = create_key(redis_client, settings.secret("key_secret"), "dies")
    argv = [sys.executable, "-c", CLIENT_THAT_WAITS, base, key]
    client = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert client.stdout is not None
        assert client.stdout.readline().strip() == "authenticated"
    finally:
        client.kill()
        client.wait(timeout=10)
    wait_for(lambda: "WebSocket closed" in proc.output(), 10, "the socket's close line", proc)
    ws = authed(base, key)
    ws.protocol.send_close()  # a close frame with no code in it
    ws.socket.sendall(b"".join(ws.protocol.data_to_send()))
    wait_for(lambda: proc.output().count("WebSocket closed") == 2, 10, "its close line", proc)
    ws.close()
    closed = [x for x in proc.output().splitlines() if "WebSocket closed" in x]
    assert [re.findall(r"code=(\d+) reason=(\S+)", line) for line in closed] == [
        [("1006", "-")],
        [("1005", "-")],
    ], closed


def test_a_key_that_reconnects_is_not_looked_up_again_until_it_is_revoked(
    start_api: StartApi, redis_client: redis.Redis, settings: Settings
) -> None:
    """Thousands of clients of one key reconnecting at once (a network drop) cost one lookup
    per api process, as REST requests do; a revocation still refuses the key at once."""
    _, api = start_api()
    key, info = create_key(redis_client, settings.secret("key_secret"), "storm")
    authed(api, key).close()
    # Its lookup entry gone without a revocation: only this process's memory of the key is left.
    redis_client.delete(api_key_lookup_key(info.digest))

    authed(api, key).close()

    revoke_key(redis_client, info.key_id)
    wait_for(lambda: refused(api, key), 5, "the revoked key refused")


def refused(api: str, key: str) -> bool:
    ws = open_ws(api)
    try:
        send(ws, type="auth", key=key)
        return bool(recv(ws).get("code") == "invalid_key")
    finally:
        ws.close()
