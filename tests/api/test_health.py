"""Liveness and readiness, against a real uvicorn process."""

from __future__ import annotations

import re
import socket
from urllib.parse import urlsplit

import httpx

from tests.conftest import StartApi, StartWorker
from tests.support.processes import wait_for


def test_readyz_is_503_with_reason_until_both_queues_have_workers(
    start_api: StartApi, start_worker: StartWorker
) -> None:
    _, url = start_api()
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}

    not_ready = httpx.get(f"{url}/readyz")
    assert not_ready.status_code == 503
    assert "files" in not_ready.json()["error"]["message"]

    start_worker(queues="files,orders")
    wait_for(lambda: httpx.get(f"{url}/readyz").status_code == 200, 20, "readyz 200")


def _exchange(sock: socket.socket, request: bytes) -> bytes:
    """Send `request` and read one answer's head and, when it says so, its body."""
    sock.sendall(request)
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    if not request.startswith(b"HEAD "):
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
        while len(body) < length:
            body += sock.recv(65536)
    assert body == b"" or not request.startswith(b"HEAD "), body
    return head


def test_head_is_answered_as_get_without_a_body_by_the_probed_paths(start_api: StartApi) -> None:
    # Load balancers and uptime checks probe with HEAD: it was 405 on each of these.
    _, url = start_api()
    parts = urlsplit(url)
    for path in ("/healthz", "/readyz", "/"):
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
            head = _exchange(sock, f"HEAD {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            # A GET on the same connection reads its own answer: the HEAD left no body behind.
            get = _exchange(sock, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        status = head.split(b"\r\n", 1)[0]
        assert status == get.split(b"\r\n", 1)[0], (path, head)
        assert b"405" not in status
        assert b"content-type" in head.lower()
