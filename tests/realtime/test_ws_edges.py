"""WebSocket limits that apply before anything is buffered or answered: frame size, sockets that
never authenticate, and key guessing from one address."""

from __future__ import annotations

import base64
import contextlib
import math
import os
import select
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from tests.conftest import StartApi
from tests.realtime.conftest import MakeKey
from tests.realtime.wsclient import authed, open_ws, recv, recv_until, send
from tests.support.processes import wait_for

MiB = 1024 * 1024


def peak_rss(pid: int) -> int:
    """The process's peak resident set so far (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def close_of(ws: ClientConnection) -> tuple[int, str]:
    """The close code and reason the server sent, after any messages still queued."""
    with pytest.raises(ConnectionClosed) as closed:
        recv_until(ws, lambda _: False)
    assert closed.value.rcvd is not None, "the server did not close"
    return closed.value.rcvd.code, closed.value.rcvd.reason


def raw_handshake(base_url: str) -> socket.socket:
    """A WebSocket opened by hand, so a frame can be written as it would stream from a client."""
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock


def stream_frame_until_answered(sock: socket.socket, size: int) -> bytes:
    """Write one text frame of `size` bytes in 64 KiB pieces, stopping as soon as the server
    answers (or hangs up); returns what it answered."""
    sock.sendall(bytes([0x81, 0x80 | 127]) + size.to_bytes(8, "big") + bytes(4))  # mask 0
    piece, sent = b"x" * 65536, 0
    while sent < size:
        readable, writable, _ = select.select([sock], [sock], [], 5)
        if readable:
            break
        try:
            sent += sock.send(piece[: size - sent]) if writable else 0
        except OSError:
            break
    answer = b""
    with contextlib.suppress(OSError):
        while len(answer) < 4 and (data := sock.recv(4096)):
            answer += data
    return answer


def test_a_10_mib_frame_is_refused_from_its_header_without_being_buffered(
    start_api: StartApi,
) -> None:
    proc, base = start_api()
    sock = raw_handshake(base)
    before = peak_rss(proc.popen.pid)
    with sock:
        answer = stream_frame_until_answered(sock, 10 * MiB)
    # A close frame with 1009 (message too big), from uvicorn's --ws-max-size.
    assert answer[:1] == b"\x88", answer
    assert int.from_bytes(answer[2:4], "big") == 1009
    assert peak_rss(proc.popen.pid) - before < 4 * MiB


def test_a_text_frame_that_is_not_utf8_is_closed_1007_without_a_traceback_in_the_log(
    start_api: StartApi,
) -> None:
    # uvicorn logged each one at ERROR with a traceback: any client could fill the log with them.
    proc, base = start_api()
    with raw_handshake(base) as sock:
        sock.sendall(bytes([0x81, 0x80 | 2]) + bytes(4) + b"\xff\xfe")  # mask 0: as written
        answer = sock.recv(4096)
    assert answer[:1] == b"\x88", answer
    assert int.from_bytes(answer[2:4], "big") == 1007
    wait_for(lambda: "WebSocket closed: " in proc.output(), 5, "the session's close line", proc)
    assert "Traceback" not in proc.output()
    assert " ERROR " not in proc.output()
    assert "INFO uvicorn.error: Invalid UTF-8 sequence received from client." in proc.output()


def test_a_socket_that_leaves_before_authenticating_is_logged_with_its_own_close_code(
    start_api: StartApi,
) -> None:
    # Its end line said 4001, an authentication the server refused, for a client that left.
    proc, base = start_api()
    with open_ws(base) as ws:
        ws.close(code=1001, reason="tab closed")
    wait_for(lambda: "WebSocket closed: " in proc.output(), 5, "the session's close line", proc)
    assert "WebSocket closed: code=1001 reason=tab closed principal=- " in proc.output()


def test_a_new_socket_takes_the_place_of_its_addresss_oldest_unauthenticated_one(
    start_api: StartApi, make_principal: MakeKey
) -> None:
    # An address is often many clients (a NAT, a proxy): idle sockets of one of them must not
    # keep another that sends its key at once out for the whole auth timeout.
    _, base = start_api(env={"JOBCAST_WS_MAX_UNAUTHENTICATED_PER_ADDRESS": "5"})
    key, _ = make_principal()
    idle = [open_ws(base) for _ in range(5)]
    with authed(base, key):  # a sixth: let in, and the oldest idle one closed
        pass
    answer = recv(idle[0])
    assert answer["code"] == "too_many_unauthenticated", answer
    assert "waited longest" in answer["message"]
    assert close_of(idle[0]) == (4029, "too_many_unauthenticated")
    send(idle[1], type="auth", key=key)  # the others kept their places
    assert recv(idle[1])["type"] == "auth.ok"
    for ws in idle:
        ws.close()


def test_an_address_never_holds_more_unauthenticated_sockets_than_its_limit(
    start_api: StartApi,
) -> None:
    _, base = start_api(env={"JOBCAST_WS_MAX_UNAUTHENTICATED_PER_ADDRESS": "3"})
    sockets = [open_ws(base) for _ in range(8)]
    for evicted in sockets[:5]:  # oldest first, one per socket opened past the limit
        assert recv(evicted)["code"] == "too_many_unauthenticated"
        assert close_of(evicted) == (4029, "too_many_unauthenticated")
    for kept in sockets[5:]:
        with pytest.raises(TimeoutError):
            kept.recv(timeout=0.3)
        kept.close()


def wrong_key_attempt(base: str) -> tuple[str, int]:
    with open_ws(base) as ws:
        send(ws, type="auth", key="jc_guess_" + "x" * 40)
        code = recv(ws)["code"]
        return code, close_of(ws)[0]


def test_parallel_wrong_keys_from_one_address_get_answers_only_within_the_budget(
    start_api: StartApi,
) -> None:
    _, base = start_api(env={"JOBCAST_WS_MAX_UNAUTHENTICATED_PER_ADDRESS": "200"})
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(lambda _: wrong_key_attempt(base), range(100)))
    elapsed = time.monotonic() - started
    answered = [o for o in outcomes if o == ("invalid_key", 4001)]
    refused = [o for o in outcomes if o == ("rate_limited", 4029)]
    assert len(answered) + len(refused) == 100, outcomes
    # The burst (30 by default), plus the budget's refill of one a second while the test runs,
    # is all an address learns about its guesses; the rest are closed unanswered.
    assert 0 < len(answered) <= 30 + math.ceil(elapsed)


def test_a_valid_key_gets_in_however_many_wrong_ones_its_address_sent(
    start_api: StartApi, make_principal: MakeKey
) -> None:
    # As on REST: the address's budget counts failures, and refuses only failures.
    _, base = start_api(env={"JOBCAST_WS_AUTH_ATTEMPTS_BURST": "3"})
    key, _ = make_principal()
    outcomes = [wrong_key_attempt(base) for _ in range(5)]
    assert outcomes[3:] == [("rate_limited", 4029)] * 2
    with authed(base, key):
        pass
    ticket = httpx.post(f"{base}/ws/ticket", headers={"Authorization": f"Bearer {key}"})
    with open_ws(base, f"/ws?ticket={ticket.json()['ticket']}") as by_ticket:
        assert recv(by_ticket)["type"] == "auth.ok"
    assert wrong_key_attempt(base) == ("rate_limited", 4029)
    with open_ws(base, "/ws?ticket=wst_guess") as wrong_ticket:
        assert recv(wrong_ticket)["code"] == "rate_limited"


def test_successful_authentications_spend_nothing(
    start_api: StartApi, make_principal: MakeKey
) -> None:
    # The clients of one address (a NAT, a proxy) reconnect all day: only failures add up.
    _, base = start_api(env={"JOBCAST_WS_AUTH_ATTEMPTS_BURST": "3"})
    key, _ = make_principal()
    for _ in range(10):
        with authed(base, key):
            pass
    outcomes = [wrong_key_attempt(base) for _ in range(5)]
    assert outcomes[:3] == [("invalid_key", 4001)] * 3
    assert ("rate_limited", 4029) in outcomes[3:]
