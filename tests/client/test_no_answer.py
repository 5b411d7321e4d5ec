"""A server that takes the connection and never answers: `timeout` bounds the wait for its
answer, each retry included, and the call ends in UnavailableError `no_answer`; an upload's
answer, which comes only once the file is stored, has its own, longer bound."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobcast.client import Client, InvalidRequestError, RetryPolicy, UnavailableError

RETRIES = RetryPolicy(max_retries=2, backoff=0.01)
#: An answer after the upload, later than the client's `timeout` of 1 s.
STORING_S = 2.0
REFUSAL = b'{"error": {"code": "invalid_params", "message": "stored, then refused", "details": []}}'


@pytest.fixture
def silent_server() -> Iterator[str]:
    """The URL of a socket that listens (the kernel completes each handshake) and never
    answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def _answer_after_body(listener: socket.socket) -> None:
    """Read one request whole, wait `STORING_S` as a server storing a file would, answer 422."""
    conn, _ = listener.accept()
    with conn:
        received = b""
        while b"\r\n\r\n" not in received:
            received += conn.recv(65536)
        head, body = received.split(b"\r\n\r\n", 1)
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(body) < length:
            body += conn.recv(65536)
        time.sleep(STORING_S)
        conn.sendall(
            b"HTTP/1.1 422 Unprocessable Entity\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(REFUSAL)}\r\nConnection: close\r\n\r\n".encode()
            + REFUSAL
        )


@pytest.fixture
def slow_storing_server() -> Iterator[str]:
    """The URL of a server that answers an upload `STORING_S` after its last byte."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        answering = threading.Thread(target=_answer_after_body, args=(listener,), daemon=True)
        answering.start()
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
        answering.join(10)


@pytest.mark.timeout(30)
def test_a_server_that_never_answers_ends_in_unavailable_after_the_retries(
    silent_server: str,
) -> None:
    retries: list[tuple[int, float]] = []

    def on_retry(status: int, wait: float) -> None:
        retries.append((status, wait))

    started = time.monotonic()
    client = Client(silent_server, "jc_x_y", timeout=1, retry=RETRIES, on_retry=on_retry)
    with client, pytest.raises(UnavailableError) as raised:
        client.me()
    assert raised.value.code == "no_answer"
    assert f"{silent_server}: the connection was made, but no answer came within 1 s" in str(
        raised.value
    )
    assert [status for status, _ in retries] == [0, 0]  # the documented retries, then the error
    assert time.monotonic() - started < 10  # three tries of 1 s each, and short pauses


@pytest.mark.timeout(30)
def test_an_upload_answered_once_stored_waits_past_the_timeout(
    slow_storing_server: str, tmp_path: Path
) -> None:
    table = tmp_path / "table.csv"
    table.write_text("a,b\n1,2\n")
    client = Client(slow_storing_server, "jc_x_y", timeout=1, retry=RETRIES)
    with client, pytest.raises(InvalidRequestError) as raised:  # the answer, not a timeout
        client.submit_file(table)
    assert raised.value.code == "invalid_params"
