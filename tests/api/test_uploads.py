"""Uploads the api removes (a refused one's partial file, a replay's copy, a cancelled job's
file) are removed on a worker thread, never on the event loop every other request waits on; an
upload the api has no file left for is a 503 to retry, not a 500; one that would leave the data
directory's disk under its floor is a 507."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import re
import resource
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from jobcast import rediskeys
from jobcast.settings import Settings
from tests.api.conftest import MakeKey
from tests.api.inprocess import run_in_process
from tests.conftest import MakePrincipal, StartApi
from tests.support.api_client import api_client

QUOTA = 100_000


def test_uploads_are_removed_off_the_event_loop_and_are_gone_when_the_answer_comes(
    settings: Settings, make_key: MakeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads = settings.data_dir / "uploads"
    removed: list[tuple[str, str]] = []  # (file, thread that removed it)
    unlink = Path.unlink

    def recorded(path: Path, missing_ok: bool = False) -> None:
        if uploads in path.parents:
            removed.append((path.name, threading.current_thread().name))
        unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", recorded)
    loop_thread = threading.current_thread().name  # run_in_process runs the app's loop here
    headers = {"Authorization": f"Bearer {make_key()}"}
    table = ("t.csv", b"n\n" + b"7\n" * 15_000)

    async def scenario(client: httpx.AsyncClient) -> None:
        first = await client.post(
            "/jobs", files={"file": table}, headers={**headers, "Idempotency-Key": "k"}
        )
        replay = await client.post(
            "/jobs", files={"file": table}, headers={**headers, "Idempotency-Key": "k"}
        )
        assert replay.json()["id"] == first.json()["id"]
        await client.post("/jobs", files={"file": table}, headers=headers)

        async def over_quota():  # type: ignore[no-untyped-def]
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="t.csv"\r\n\r\n'
            for _ in range(20):
                yield b"7\n" * 2048
            yield b"\r\n--b--\r\n"

        refused = await client.post(
            "/jobs",
            content=over_quota(),
            headers={**headers, "Content-Type": "multipart/form-data; boundary=b"},
        )
        assert refused.status_code == 413, refused.text
        cancelled = await client.delete(f"/jobs/{first.json()['id']}", headers=headers)
        assert cancelled.json()["status"] == "cancelled"

    quota = settings.model_copy(update={"quota_stored_bytes": QUOTA})
    run_in_process(quota, scenario)
    # the replay's copy, the refused partial, the cancelled job's file
    assert len(removed) == 3, removed
    assert all(thread != loop_thread for _, thread in removed), removed
    assert len(list(uploads.iterdir())) == 1  # the one job left queued keeps its file


def stored_uploads(settings: Settings) -> list[Path]:
    uploads = settings.data_dir / "uploads"
    return list(uploads.iterdir()) if uploads.exists() else []


@pytest.mark.parametrize(
    ("parts", "named", "hint"),
    [
        ([("Params", (None, '{"operation": "convert", "to": "csv"}'))], "Params", "`params`"),
        ([("param", (None, '{"operation": "profile"}'))], "param", "`params`"),
        ([("params ", (None, '{"operation": "profile"}'))], "params ", "`params`"),
        ([("files", ("t.csv", b"a\n1\n"))], "files", "`file`"),
        ([("notes", (None, "sales of May"))], "notes", None),
    ],
    ids=["capital", "singular", "space", "plural-file", "unrelated"],
)
def test_a_part_no_job_reads_is_a_422_naming_it_and_the_parts_read(
    settings: Settings,
    make_key: MakeKey,
    parts: list[tuple[str, tuple[str | None, str | bytes]]],
    named: str,
    hint: str | None,
) -> None:
    headers = {"Authorization": f"Bearer {make_key()}"}
    table = ("file", ("t.csv", b"a,b\n1,2\n"))

    async def scenario(client: httpx.AsyncClient) -> None:
        # Before the file and after it (then the file was being stored already).
        for body in ([*parts, table], [table, *parts]):
            answer = await client.post("/jobs", files=body, headers=headers)
            assert answer.status_code == 422, answer.text
            error = answer.json()["error"]
            assert error["code"] == "validation_error"
            assert f"`{named}`" in error["message"]
            assert "`file` and `params`" in error["message"]
            assert (f"did you mean {hint}?" in error["message"]) == (hint is not None)
            assert error["details"][0]["field"] == named
        listed = await client.get("/jobs", headers=headers)
        assert listed.json()["items"] == []  # no job ran on default params

    run_in_process(settings, scenario)
    assert stored_uploads(settings) == []


def test_a_file_name_past_the_part_header_limit_is_a_400_saying_so(
    settings: Settings, make_key: MakeKey
) -> None:
    headers = {"Authorization": f"Bearer {make_key()}"}

    async def scenario(client: httpx.AsyncClient) -> None:
        long_name = "x" * 20_000 + ".csv"
        answer = await client.post("/jobs", files={"file": (long_name, b"a\n1\n")}, headers=headers)
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        limit = error["details"]["max_header_bytes"]
        assert error["code"] == "bad_request"
        assert f"header line is longer than {limit} bytes" in error["message"]
        assert "shorter name" in error["message"]
        many = "".join(f"X-Note-{i}: {i}\r\n" for i in range(64))
        crowded = await client.post(
            "/jobs",
            content=(
                f'--b\r\nContent-Disposition: form-data; name="file"; filename="t.csv"\r\n'
                f"{many}\r\na\n1\n\r\n--b--\r\n"
            ).encode(),
            headers={**headers, "Content-Type": "multipart/form-data; boundary=b"},
        )
        assert crowded.status_code == 400, crowded.text
        count = crowded.json()["error"]["details"]["max_header_count"]
        assert f"more than {count} header lines" in crowded.json()["error"]["message"]
        fine = await client.post(
            "/jobs", files={"file": ("x" * 1_000 + ".csv", b"a\n1\n")}, headers=headers
        )
        assert fine.status_code == 202, fine.text

    run_in_process(settings, scenario)


def test_a_file_part_sent_as_a_one_line_form_field_is_a_422_saying_how_to_upload(
    settings: Settings, make_key: MakeKey
) -> None:
    headers = {"Authorization": f"Bearer {make_key()}"}

    async def scenario(client: httpx.AsyncClient) -> None:
        # `curl -F file=sales.csv`: the name without `@`. It became a job failing as no_rows.
        answer = await client.post("/jobs", files={"file": (None, b"sales.csv")}, headers=headers)
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["code"] == "file_required"
        assert "form field holding 'sales.csv', not a file" in error["message"]
        assert "-F file=@path/to/table.csv" in error["message"]
        assert (await client.get("/jobs", headers=headers)).json()["items"] == []
        # `curl -F 'file=<sales.csv'`: the table's text as a field, lines and all, is taken.
        text = await client.post("/jobs", files={"file": (None, b"a,b\n1,2\n")}, headers=headers)
        assert text.status_code == 202, text.text

    run_in_process(settings, scenario)
    assert len(stored_uploads(settings)) <= 1  # the accepted one's, until a worker takes it


def test_an_upload_the_api_has_no_file_left_for_is_a_503_to_retry(
    start_api: StartApi, make_key: MakeKey
) -> None:
    # Connections held open by others took the api to its open-file limit: uploads were a 500.
    proc, url = start_api()
    pid, table = proc.popen.pid, ("t.csv", b"a,b\n1,2\n")
    with api_client(url, make_key(), timeout=5) as client:
        assert client.post("/jobs", files={"file": table}).status_code == 202  # opens its pool
        soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        # No new file at all, whatever number comes free: its open-file count as the limit let
        # an upload through once a file it had open closed in between (a loaded machine).
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (0, hard))
        try:
            refused = client.post("/jobs", files={"file": table})
        finally:
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "unavailable"
        assert "too many files open" in refused.json()["error"]["message"]
        assert refused.headers["Retry-After"] == "5"
        assert client.post("/jobs", files={"file": table}).status_code == 202


def _streamed_table(boundary: str) -> Iterator[bytes]:
    """A multipart body sent without a Content-Length (chunked): its size is not known ahead."""
    disposition = 'Content-Disposition: form-data; name="file"; filename="t.csv"'
    yield f"--{boundary}\r\n{disposition}\r\n\r\n".encode()
    yield b"n\n" + b"7\n" * 50_000
    yield f"\r\n--{boundary}--\r\n".encode()


def test_an_upload_that_would_leave_the_disk_under_its_floor_is_a_507_and_leaves_nothing(
    start_api: StartApi,
    make_principal: MakePrincipal,
    settings: Settings,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    # Many owners' uploads within their quotas, or one larger than what is free, filled the
    # disk the workers, Redis' AOF and the results share: the floor sits above what is free.
    floor = shutil.disk_usage(tmp_path).free + 2**40
    _, url = start_api(env={"JOBCAST_JOB_MIN_FREE_DISK_BYTES": str(floor)})
    key, owner = make_principal()
    boundary = "floor-test-boundary"
    streamed = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    with api_client(url, key, timeout=5) as client:
        declared = client.post("/jobs", files={"file": ("t.csv", b"n\n" + b"7\n" * 50_000)})
        chunked = client.post("/jobs", content=_streamed_table(boundary), headers=streamed)

    for refused in (declared, chunked):
        assert refused.status_code == 507, refused.text
        error = refused.json()["error"]
        assert error["code"] == "storage_full"
        assert "JOBCAST_JOB_MIN_FREE_DISK_BYTES" in error["message"]
        assert "retry later" in error["message"].lower()
        assert error["details"]["min_free_bytes"] == floor
        assert refused.headers["Retry-After"]
    assert stored_uploads(settings) == []  # no partial file left
    assert redis_client.hgetall(rediskeys.quota_ledger_key(owner)) == {}  # nothing reserved


class _FullDisk(io.FileIO):
    """A file on a disk with no room left: every write is refused, as the kernel refuses it."""

    def write(self, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_an_upload_the_disk_has_no_room_for_is_the_floors_507_and_leaves_nothing(
    settings: Settings,
    make_principal: MakePrincipal,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The disk filled under the floor's checks (another process wrote meanwhile): was a 500.
    monkeypatch.setattr(
        "api.uploads._open_new", lambda path: io.BufferedWriter(_FullDisk(path, "x"))
    )
    (settings.data_dir / "uploads").mkdir(parents=True)  # made by _open_new, replaced here
    key, owner = make_principal()
    headers = {"Authorization": f"Bearer {key}"}

    async def scenario(client: httpx.AsyncClient) -> None:
        table = ("t.csv", b"n\n" + b"7\n" * 50_000)
        refused = await client.post("/jobs", files={"file": table}, headers=headers)
        assert refused.status_code == 507, refused.text
        error = refused.json()["error"]
        assert error["code"] == "storage_full"
        assert "retry later" in error["message"].lower()
        assert refused.headers["Retry-After"]

    run_in_process(settings.model_copy(update={"job_min_free_disk_bytes": 0}), scenario)
    assert stored_uploads(settings) == []
    assert redis_client.hgetall(rediskeys.quota_ledger_key(owner)) == {}


#: The upload cap of the epilogue test, and how much epilogue a test may send before giving up.
EPILOGUE_CAP = 50_000


def _send_chunked_epilogue(sock: socket.socket, key: str, stop: threading.Event) -> None:
    """A chunked upload of a small file whose closing boundary is followed by epilogue bytes
    that never end (until `stop`, or the server stops reading)."""
    boundary = "epilogue-test-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="t.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\nn\n7\n\r\n--{boundary}--\r\n"
    ).encode()
    head = (
        f"POST /jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    filler = b"x" * 4096
    with contextlib.suppress(OSError):  # the server may close once it has answered
        sock.sendall(head + b"%x\r\n%s\r\n" % (len(body), body))
        while not stop.is_set():
            sock.sendall(b"%x\r\n%s\r\n" % (len(filler), filler))


def _head_and_body(sock: socket.socket) -> tuple[bytes, bytes]:
    """The server's answer (its head and a body of its Content-Length)."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed within an answer: {received!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)[1])  # type: ignore[index]
    while len(body) < length:
        body += sock.recv(65536)
    return head, body


def test_an_endless_epilogue_after_the_closing_boundary_counts_toward_the_upload_cap(
    start_api: StartApi,
    make_principal: MakePrincipal,
    settings: Settings,
    redis_client: redis.Redis,
) -> None:
    # Bytes after the closing boundary were read and dropped, never counted: a chunked upload
    # of a tiny file could stream them for good, holding one of its owner's upload slots.
    _, url = start_api(env={"JOBCAST_UPLOAD_MAX_BYTES": str(EPILOGUE_CAP)})
    key, owner = make_principal()
    address = httpx.URL(url)
    stop = threading.Event()
    with socket.create_connection((address.host, address.port or 80), timeout=20) as sock:
        sender = threading.Thread(target=_send_chunked_epilogue, args=(sock, key, stop))
        sender.start()
        try:
            head, body = _head_and_body(sock)
        finally:
            stop.set()
            sender.join(30)

    assert head.startswith(b"HTTP/1.1 413 "), head
    error = json.loads(body)["error"]
    assert error["code"] == "payload_too_large"
    assert f"larger than {EPILOGUE_CAP} bytes" in error["message"]
    assert stored_uploads(settings) == []  # no file kept, no job made
    assert redis_client.hgetall(rediskeys.quota_ledger_key(owner)) == {}  # its slot is free
