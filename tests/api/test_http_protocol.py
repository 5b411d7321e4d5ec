"""Clients that hold connections open (slowloris) cannot take the api down: a connection whose
headers come too slowly is closed, and one address holds at most so many connections. Before,
19,980 half-sent requests took the api to its open-file limit and every new connection was reset."""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

from tests.conftest import SharedStack, StartApi, module_stack
from tests.realtime.wsclient import open_ws
from tests.support.processes import wait_for

HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

#: One api for the header deadline's tests (the cap's tests each want a cap of their own).
quick_headers = module_stack(
    api_env={"JOBCAST_API_HEADER_TIMEOUT": "1", "JOBCAST_API_BODY_TIMEOUT": "1"}
)


def connect(url: str, source: str = "127.0.0.1") -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection(
        (parts.hostname, parts.port), timeout=10, source_address=(source, 0)
    )


def answer(sock: socket.socket) -> bytes:
    """What the api sends until it closes the connection, or until the answer's body ends."""
    received = b""
    while b"\r\n\r\n" not in received or not received.endswith(b"}"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


def served(url: str, source: str = "127.0.0.1") -> bytes:
    with contextlib.closing(connect(url, source)) as sock:
        sock.sendall(HEALTHZ)
        return answer(sock)


def seconds_until_closed(sock: socket.socket) -> float:
    """How long the api took to close `sock`: infinite if it kept it past the socket's timeout."""
    start = time.monotonic()
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        return float("inf")
    return time.monotonic() - start


@contextlib.contextmanager
def held(url: str, count: int) -> Iterator[list[socket.socket]]:
    """`count` kept-alive connections from 127.0.0.1, each served one request."""
    socks = [connect(url) for _ in range(count)]
    try:
        for sock in socks:
            sock.sendall(HEALTHZ)
            assert answer(sock).startswith(b"HTTP/1.1 200"), "not served below the cap"
        yield socks
    finally:
        for sock in socks:
            sock.close()


def test_a_connection_stalled_in_its_headers_is_closed_while_others_are_served(
    quick_headers: SharedStack,
) -> None:
    url = quick_headers.url
    stalled, silent = connect(url), connect(url)
    with contextlib.closing(stalled), contextlib.closing(silent):
        stalled.sendall(b"GET /me HTTP/1.1\r\nHost: x\r\n")
        assert served(url).startswith(b"HTTP/1.1 200")
        assert seconds_until_closed(stalled) < 3
        assert seconds_until_closed(silent) < 3  # opened, then not a byte


def test_a_kept_alive_connection_has_the_deadline_for_its_next_requests_headers(
    quick_headers: SharedStack,
) -> None:
    url = quick_headers.url
    with held(url, 1) as (sock,):
        sock.sendall(b"GET /me HTTP/1.1\r\n")
        for _ in range(2):  # a header line now and then, as slowloris keeps one alive
            time.sleep(0.6)
            sock.sendall(b"X-a: b\r\n")
        assert seconds_until_closed(sock) < 2


def body_head(path: str, key: str, length: int, content_type: str = "application/json") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def test_a_json_body_that_stops_coming_is_answered_408_and_closed(
    quick_headers: SharedStack,
) -> None:
    key, _ = quick_headers.new_key()
    for path in ("/orders", "/data/"):
        with contextlib.closing(connect(quick_headers.url)) as sock:
            sock.sendall(body_head(path, key, 1000) + b'{"symbol": ')
            started = time.monotonic()
            refused = answer(sock)
            assert time.monotonic() - started < 3, path
            assert refused.startswith(b"HTTP/1.1 408"), refused
            assert b'"request_timeout"' in refused
            assert seconds_until_closed(sock) < 1


def test_a_body_cut_at_the_deadline_is_logged_as_the_408_the_client_got(
    quick_headers: SharedStack,
) -> None:
    # The route, reading a disconnect where its body should be, answered 400 to no one, and the
    # access line said 400 for a client told 408.
    assert quick_headers.api is not None
    key, _ = quick_headers.new_key()
    request_id = "body-deadline-logged"
    with contextlib.closing(connect(quick_headers.url)) as sock:
        head = body_head("/orders", key, 1000).replace(
            b"\r\n\r\n", f"\r\nX-Request-ID: {request_id}\r\n\r\n".encode()
        )
        sock.sendall(head + b'{"symbol": ')
        assert answer(sock).startswith(b"HTTP/1.1 408")
    api = quick_headers.api
    wait_for(lambda: request_id in api.output(), 5, "the access log line", api)
    (line,) = [x for x in api.output().splitlines() if f"request_id={request_id}" in x]
    assert "POST /orders 408 " in line


def test_a_json_body_dribbled_a_byte_at_a_time_is_cut_at_the_deadline(
    quick_headers: SharedStack,
) -> None:
    key, _ = quick_headers.new_key()
    with contextlib.closing(connect(quick_headers.url)) as sock:
        sock.sendall(body_head("/orders", key, 1000) + b'{"symbol": "')
        started = time.monotonic()
        # A byte every 0.2 s, well inside any idle timeout, until the api answers (or 4 s).
        while not select.select([sock], [], [], 0.2)[0] and time.monotonic() - started < 4:
            sock.sendall(b"A")
        assert time.monotonic() - started < 3
        assert answer(sock).startswith(b"HTTP/1.1 408")


def test_a_json_route_sent_a_multipart_type_has_the_body_deadline_too(
    quick_headers: SharedStack,
) -> None:
    key, _ = quick_headers.new_key()
    with contextlib.closing(connect(quick_headers.url)) as sock:
        head = body_head("/orders", key, 1000, "multipart/form-data; boundary=b")
        sock.sendall(head + b"--b\r\n")
        assert answer(sock).startswith(b"HTTP/1.1 408")


def test_an_upload_streams_past_the_body_deadline(quick_headers: SharedStack) -> None:
    key, _ = quick_headers.new_key()
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="t.csv"\r\n\r\n'
    rows = [b"a,b\n"] + [b"%d,%d\n" % (n, n) for n in range(6)]
    body = part + b"".join(rows) + b"\r\n--b--\r\n"
    head = body_head("/jobs", key, len(body), "multipart/form-data; boundary=b")
    with contextlib.closing(connect(quick_headers.url)) as sock:
        sock.sendall(head + part)
        for row in rows:  # 2.1 s of body: twice the deadline, each gap under the idle timeout
            time.sleep(0.3)
            sock.sendall(row)
        sock.sendall(b"\r\n--b--\r\n")
        assert answer(sock).startswith(b"HTTP/1.1 202")


def test_connections_past_the_per_address_cap_are_refused_while_another_address_is_served(
    start_api: StartApi,
) -> None:
    _, url = start_api(env={"JOBCAST_API_MAX_CONNECTIONS_PER_ADDRESS": "3"})
    with held(url, 3) as socks:
        refused = served(url)
        assert refused.startswith(b"HTTP/1.1 503"), refused
        assert b'"unavailable"' in refused
        assert b"Too many open connections" in refused
        assert served(url, source="127.0.0.2").startswith(b"HTTP/1.1 200")
        socks[0].close()
        # Counted down on close: a new connection takes its place (once the api has seen it).
        assert eventually_served(url)


def test_a_websocket_stops_counting_against_the_cap_once_upgraded(start_api: StartApi) -> None:
    _, url = start_api(env={"JOBCAST_API_MAX_CONNECTIONS_PER_ADDRESS": "2"})
    with open_ws(url), open_ws(url), open_ws(url):  # their own per-address limit is 20
        assert eventually_served(url)
        with held(url, 2):
            assert served(url).startswith(b"HTTP/1.1 503")  # the cap still holds


def eventually_served(url: str, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served(url).startswith(b"HTTP/1.1 200"):
            return True
        time.sleep(0.05)
    return False
