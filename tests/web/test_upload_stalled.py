"""What the jobs page says when the api cuts an upload that went quiet (408 `upload_stalled`):
that it stalled, for how long nothing came, that nothing was stored, and to send the file again.

A browser's own upload cannot be made to pause mid-body from a test (the file goes out as fast
as the socket takes it), so the api's real answer is captured from a real upload stalled over a
raw socket against this module's api, and the page's POST /jobs is answered with it."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, WebStack
from tests.web.test_app import write_table

pytestmark = pytest.mark.slow

STACK_WORKERS = False  # no job is made
#: The api cuts an upload silent for 1 s, so the real answer is captured in about a second.
STACK_API_ENV = {"JOBCAST_UPLOAD_IDLE_TIMEOUT": "1"}
BOUNDARY = "stall"


def stalled_answer(stack: WebStack, key: str) -> tuple[int, dict[str, str], bytes]:
    """The api's answer to an upload that sends its file part's head and a row, then nothing."""
    part = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="s.csv"\r\n'
        "Content-Type: text/csv\r\n\r\na,b\n1,2\n"
    ).encode()
    head = (
        f"POST /jobs HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", stack.port), timeout=30) as sock:
        sock.sendall(head + b"%x\r\n" % len(part) + part + b"\r\n")
        received = b""
        while b"\r\n\r\n" not in received:
            received += receive(sock)
        top, _, body = received.partition(b"\r\n\r\n")
        status_line, *lines = top.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines)
        # Read to its length, not to the close: the api keeps the connection open after the
        # answer, and the close came only with its keep-alive timeout, 5 s later.
        while len(body) < int(headers["content-length"]):
            body += receive(sock)
    return int(status_line.split()[1]), headers, body


def receive(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    assert chunk, "the api closed the connection before its whole answer"
    return chunk


def test_a_stalled_upload_says_nothing_was_stored_and_to_send_the_file_again(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    key = web_stack.new_key("flaky")
    status, headers, body = stalled_answer(web_stack, key)
    assert status == 408, body
    assert b'"upload_stalled"' in body, body

    page = new_page(key)

    def answer_upload(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        kept = {k: v for k, v in headers.items() if k.lower() in ("content-type", "x-request-id")}
        route.fulfill(status=status, headers=kept, body=body)

    page.route("**/jobs", answer_upload)
    page.set_input_files("#file", str(write_table(tmp_path / "sales.csv", 10)))
    page.click("form.new-job button[type=submit]")
    expect(page.locator("form.new-job .error")).to_have_text(
        "The upload stalled: nothing reached the server for 1 s, so it cut the upload; nothing "
        "was stored and no job was made. Check your connection and send the file again."
    )
    expect(page.locator(".bar-box .bar-text")).to_have_text("stalled: nothing stored")
    expect(page.locator("form.new-job button[type=submit]")).to_be_enabled()
