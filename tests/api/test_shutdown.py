"""An api told to stop (SIGTERM) lets running requests finish for its shutdown grace
(`--timeout-graceful-shutdown`, as `jobcast up` starts it), then cuts what is left, saying so."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import redis

from jobcast.launcher import API_SHUTDOWN_GRACE_SECONDS
from jobcast.rediskeys import quota_ledger_key
from jobcast.supervisor import STOP_GRACE_SECONDS
from tests.conftest import MakePrincipal, StartApi
from tests.support.processes import wait_for


def test_an_upload_stalled_mid_body_holds_no_stop_and_its_client_is_told_to_send_it_again(
    start_api: StartApi, make_principal: MakePrincipal, redis_client: redis.Redis, tmp_path: Path
) -> None:
    # A client sending its upload a byte at a time (or gone quiet) held the api's stop for as
    # long as its connection stayed open: SIGTERM, then "Waiting for connections to close"
    # until a SIGKILL.
    proc, url = start_api()
    port = int(url.rsplit(":", 1)[1])
    key, principal_id = make_principal()
    head = (
        "POST /jobs HTTP/1.1\r\nHost: api\r\n"
        f"Authorization: Bearer {key}\r\n"
        "Content-Type: multipart/form-data; boundary=cut\r\n"
        "Content-Length: 1000000\r\n\r\n--cut\r\n"
        'Content-Disposition: form-data; name="file"; filename="t.csv"\r\n\r\n'
    )
    uploads = tmp_path / "data" / "uploads"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        client.sendall(head.encode() + b"a,b\n1,2\n" * 2000)  # then nothing more
        wait_for(lambda: any(uploads.glob("*.part")), 10, "the upload to stream in", proc)
        told = time.monotonic()
        proc.popen.send_signal(signal.SIGTERM)
        answer = _read_answer(client)
        proc.popen.wait(timeout=30)
        took = time.monotonic() - told

    log = proc.output()
    assert API_SHUTDOWN_GRACE_SECONDS <= took < STOP_GRACE_SECONDS, (took, log[-2000:])
    status, headers, body = answer
    assert status == 503, answer
    assert headers["retry-after"] == "1", headers
    assert headers["connection"] == "close", headers
    error = json.loads(body)["error"]
    assert error["code"] == "shutting_down"
    assert "Send it again" in error["message"]
    assert "Idempotency-Key" in error["message"]
    assert not list(uploads.glob("*.part"))  # the partial upload went with the request
    # And so did its quota reservation: the stop closed Redis only once the cut request had
    # unwound (it was closed under it on a loaded machine: redis_unavailable, quota held).
    assert redis_client.hgetall(quota_ledger_key(principal_id)) == {}
    cut = [line for line in log.splitlines() if "cut short" in line]
    assert len(cut) == 1, log[-2000:]
    assert "POST /jobs" in cut[0]
    assert "Traceback" not in log, log[-3000:]


def _read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body of the one answer on `sock` (the server closes it)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines)
    return int(status_line.split()[1]), headers, body
