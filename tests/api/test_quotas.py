"""Per-principal quotas on a real api: stored bytes, uploads in progress and file jobs queued
or running, refused cleanly."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import redis

from api.upload_quota import ACTIVE_JOB_RETRY_S, UPLOAD_SLOT_RETRY_S
from jobcast import rediskeys
from jobcast.events import decode_entry, job_channel
from jobcast.jobs.records import TERMINAL
from jobcast.keys import create_key
from jobcast.settings import Settings
from tests.conftest import StartApi, StartWorker
from tests.support.processes import wait_for
from tests.workers.files.support import JobsClient, await_terminal

QUOTA = 100_000
BOUNDARY = "quota-test-boundary"


class Principal(JobsClient):
    def __init__(self, url: str, client: redis.Redis, settings: Settings, name: str) -> None:
        key, info = create_key(client, settings.secret("key_secret"), name)
        super().__init__(url, key)
        self.id = info.principal_id

    def ledger(self, client: redis.Redis) -> dict[str, str]:
        return client.hgetall(rediskeys.quota_ledger_key(self.id))  # type: ignore[return-value]


def wait_streaming(client: redis.Redis, who: Principal) -> None:
    wait_for(
        lambda: any(k.startswith("streaming:") for k in who.ledger(client)),
        10,
        "the upload to hold its reservation",
    )


def table(path: Path, size: int) -> Path:
    """A one-column CSV of about `size` bytes."""
    path.write_bytes(b"n\n" + b"7\n" * (size // 2))
    return path


def stored_files(settings: Settings) -> list[str]:
    uploads = settings.data_dir / "uploads"
    return sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []


def multipart_parts(head_bytes: int, gate: threading.Event | None = None) -> Iterator[bytes]:
    """A multipart body streamed without Content-Length; waits on `gate` before it ends."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="t.csv"\r\n'
        "Content-Type: text/csv\r\n\r\nn\n"
    ).encode()
    for _ in range(head_bytes // 4096):
        yield b"7\n" * 2048
    if gate is not None:
        gate.wait(30)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def post_streamed(client: Principal, parts: Iterator[bytes]) -> httpx.Response:
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    return client.http.post("/jobs", content=parts, headers=headers)


def ledger_as_it_ends(client: redis.Redis, who: Principal, job_id: str) -> dict[str, str]:
    """`who`'s ledger read atomically with the first sight of the job's outcome event."""
    stream = rediskeys.stream_key(job_channel(job_id))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with client.pipeline(transaction=True) as pipe:
            pipe.xrevrange(stream, count=1)
            pipe.hgetall(rediskeys.quota_ledger_key(who.id))
            last, ledger = pipe.execute()
        if last and decode_entry("", last[0][0], last[0][1]["e"])["data"].get("status") in TERMINAL:
            return dict(ledger)
    raise AssertionError(f"job {job_id} did not end")


MakePrincipal = Callable[[str], Principal]


@pytest.fixture
def principal(
    api_url: str, redis_client: redis.Redis, settings: Settings
) -> Iterator[MakePrincipal]:
    made: list[Principal] = []

    def make(name: str) -> Principal:
        made.append(Principal(api_url, redis_client, settings, name))
        return made[-1]

    yield make
    for who in made:
        who.http.close()


@pytest.fixture
def api_env() -> dict[str, str]:
    """The api's quotas; a test names others by parametrizing `api_env`."""
    return {"JOBCAST_QUOTA_STORED_BYTES": str(QUOTA), "JOBCAST_QUOTA_CONCURRENT_UPLOADS": "1"}


@pytest.fixture
def api_url(start_api: StartApi, api_env: dict[str, str]) -> str:
    _, url = start_api(env=api_env)
    return url


def test_uploads_past_the_stored_bytes_quota_are_413_and_leave_nothing_behind(
    principal: MakePrincipal, redis_client: redis.Redis, settings: Settings, tmp_path: Path
) -> None:
    alice = principal("alice")
    bob = principal("bob")
    forty = table(tmp_path / "forty.csv", 40_000)
    alice.submit_ok(forty)
    alice.submit_ok(forty)
    kept = stored_files(settings)

    declared = alice.submit(forty)  # the declared length is already over: refused unread
    streamed = post_streamed(alice, multipart_parts(40_000))  # refused as bytes arrive

    for answer in (declared, streamed):
        assert answer.status_code == 413, answer.text
        error = answer.json()["error"]
        assert error["code"] == "storage_quota_exceeded"
        assert f"{QUOTA}-byte quota" in error["message"]
        assert error["details"]["quota_bytes"] == QUOTA
        assert error["details"]["used_bytes"] == 2 * forty.stat().st_size
    assert stored_files(settings) == kept  # no partial file left
    assert bob.submit(forty).status_code == 202  # a quota is per principal


def test_bytes_come_back_when_the_job_ends_and_artifacts_count_until_they_expire(
    principal: MakePrincipal,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    alice = principal("alice")
    forty = table(tmp_path / "forty.csv", 40_000)
    first = alice.submit_ok(forty, '{"operation": "convert", "to": "csv"}')
    second = alice.submit_ok(forty)
    assert alice.submit(forty).status_code == 413

    start_worker(queues="files")
    await_terminal(redis_client, first)
    # An upload's bytes come back with the job's end, in the same commit: as soon as she sees
    # the outcome she may send the next file (its removal from disk follows just after).
    ledger = ledger_as_it_ends(redis_client, alice, second)
    assert not [k for k in ledger if k.startswith("upload:")], ledger
    artifact = settings.data_dir / "artifacts" / f"{first}.csv"
    # The upload's bytes are released; the converted file's are held until its job expires.
    assert [k for k in ledger if k.startswith("artifact:")] == [f"artifact:{first}"]
    assert int(ledger[f"artifact:{first}"].split()[0]) == artifact.stat().st_size
    assert alice.submit(forty).status_code == 202


def test_a_converted_file_growing_past_the_quota_fails_the_job_and_leaves_nothing(
    principal: MakePrincipal,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    # A few KB of Parquet (one repeated value, dictionary-encoded) that is 2 MB as CSV: a
    # 52 KB upload of this kind wrote 412 MB, charged to the quota only once written.
    small = tmp_path / "repeats.parquet"
    repeated = pa.DictionaryArray.from_arrays(pa.array([0] * 20_000, pa.int32()), ["x" * 100])
    pq.write_table(pa.table({"s": repeated.cast(pa.string())}), small, compression="zstd")
    assert small.stat().st_size < QUOTA // 10
    alice = principal("alice")

    job = alice.submit_ok(small, '{"operation": "convert", "to": "csv"}')
    start_worker(queues="files", env={"JOBCAST_QUOTA_STORED_BYTES": str(QUOTA)})

    assert await_terminal(redis_client, job)["type"] == "job.failed"
    error = alice.job(job)["error"]
    assert error["code"] == "storage_quota_exceeded"
    assert "past what your storage quota has left" in error["message"]
    assert not list((settings.data_dir / "artifacts").glob(f"{job}*"))
    ledger = redis_client.hgetall(rediskeys.quota_ledger_key(alice.id))
    assert not [k for k in ledger if k.startswith("artifact:")], ledger


def long_keys(path: Path, groups: int) -> Path:
    """A gzipped CSV of a few KB whose aggregate by `key` keeps about 2 KB a group."""
    path.write_bytes(
        gzip.compress(b"key,v\n" + b"".join(b"k" * 2000 + b"%d,1\n" % i for i in range(groups)))
    )
    return path


BY_KEY = json.dumps({"operation": "aggregate", "group_by": ["key"], "metrics": {"v": ["sum"]}})


def test_a_kept_result_counts_against_the_quota_and_one_past_it_fails_its_job(
    principal: MakePrincipal,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    # Results were charged to nobody: a principal could keep its cap of ended records times
    # JOBCAST_JOB_MAX_RESULT_BYTES in the Redis every principal shares.
    alice = principal("alice")
    upload = long_keys(tmp_path / "keys.csv.gz", 30)
    assert upload.stat().st_size < QUOTA // 20
    start_worker(queues="files", env={"JOBCAST_QUOTA_STORED_BYTES": str(QUOTA)})

    kept = alice.submit_ok(upload, BY_KEY)
    assert await_terminal(redis_client, kept)["type"] == "job.succeeded"
    ledger = alice.ledger(redis_client)
    stored = redis_client.hget(rediskeys.job_key(kept), "result")
    assert stored is not None
    assert len(stored) > QUOTA // 2
    size, expires = ledger[f"result:{kept}"].split()
    assert int(size) == len(stored)  # as the record keeps it
    # It goes when the record does: the same expiry.
    record_expires = time.time() + redis_client.ttl(rediskeys.job_key(kept))
    assert abs(float(expires) - record_expires) < 5

    refused = alice.submit_ok(upload, BY_KEY)
    assert await_terminal(redis_client, refused)["type"] == "job.failed"
    error = alice.job(refused)["error"]
    assert error["code"] == "storage_quota_exceeded"
    assert "past what your storage quota has left" in error["message"]
    assert not redis_client.hget(rediskeys.job_key(refused), "result")
    assert sorted(alice.ledger(redis_client)) == [f"result:{kept}"]


def test_a_queued_job_cancelled_gives_its_bytes_back_at_once(
    principal: MakePrincipal, redis_client: redis.Redis, settings: Settings, tmp_path: Path
) -> None:
    alice = principal("alice")
    forty = table(tmp_path / "forty.csv", 40_000)
    first = alice.submit_ok(forty)
    alice.submit_ok(forty)
    assert alice.submit(forty).status_code == 413
    stored = str(redis_client.hget(rediskeys.job_key(first), "stored"))

    # No worker runs here: the cancel alone frees the bytes and the file, not a worker later.
    assert alice.http.delete(f"/jobs/{first}").json()["status"] == "cancelled"
    assert f"upload:{stored}" not in alice.ledger(redis_client)
    assert stored not in stored_files(settings)
    assert alice.submit(forty).status_code == 202


def test_one_upload_too_many_in_progress_is_429_until_the_first_ends(
    principal: MakePrincipal, redis_client: redis.Redis, settings: Settings, tmp_path: Path
) -> None:
    alice = principal("alice")
    small = table(tmp_path / "small.csv", 1_000)
    gate = threading.Event()
    answers: list[httpx.Response] = []
    slow = threading.Thread(
        target=lambda: answers.append(post_streamed(alice, multipart_parts(8_192, gate)))
    )
    slow.start()
    try:
        wait_streaming(redis_client, alice)
        second = alice.submit(small)
    finally:
        gate.set()
        slow.join(30)

    assert second.status_code == 429, second.text
    assert second.json()["error"]["code"] == "too_many_uploads"
    # As every 429 says when to try again (README, the OpenAPI description), with its budget.
    assert second.headers["Retry-After"] == str(UPLOAD_SLOT_RETRY_S)
    assert "RateLimit-Remaining" in second.headers
    assert answers[0].status_code == 202, answers[0].text
    assert alice.submit(small).status_code == 202


def open_stalled_upload(who: Principal) -> socket.socket:
    """A chunked upload that sends its file part's headers and a row, then nothing more."""
    url = httpx.URL(who.base_url)
    sock = socket.create_connection((url.host, url.port), timeout=30)
    part = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="s.csv"\r\n'
        "Content-Type: text/csv\r\n\r\na,b\n1,2\n"
    ).encode()
    sock.sendall(
        f"POST /jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {who.key}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n".encode()
        + b"%x\r\n" % len(part)
        + part
        + b"\r\n"
    )
    return sock


def answer_of(sock: socket.socket) -> bytes:
    """The server's answer: its head and a body of its Content-Length. Not read until the
    server closes the connection, which it keeps open for its keep-alive (5 s) after the 408."""
    received = b""
    while b"\r\n\r\n" not in received or len(received) < answer_length(received):
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed within an answer: {received!r}"
        received += chunk
    return received


def answer_length(received: bytes) -> int:
    """The whole answer's length in bytes, from its head (which `received` holds)."""
    head, _, _ = received.partition(b"\r\n\r\n")
    lines = [line.split(b":", 1) for line in head.split(b"\r\n")[1:]]
    length = next(int(value) for name, value in lines if name.strip().lower() == b"content-length")
    return len(head) + 4 + length


@pytest.mark.parametrize(
    "api_env",
    [{"JOBCAST_QUOTA_CONCURRENT_UPLOADS": "2", "JOBCAST_UPLOAD_IDLE_TIMEOUT": "2"}],
    ids=["2 uploads, 2 s idle"],
)
def test_a_stalled_upload_is_cut_408_and_frees_its_slot_and_file(
    principal: MakePrincipal, redis_client: redis.Redis, settings: Settings, tmp_path: Path
) -> None:
    alice = principal("alice")
    small = table(tmp_path / "small.csv", 1_000)
    stalled = [open_stalled_upload(alice) for _ in range(2)]
    try:
        wait_for(lambda: len(stored_files(settings)) == 2, 10, "both partial files")
        assert alice.submit(small).status_code == 429
        answers = [answer_of(sock) for sock in stalled]
    finally:
        for sock in stalled:
            sock.close()

    for answer in answers:
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408 "), answer
        assert b'"upload_stalled"' in body, answer
        assert b"nothing of it was kept" in body, answer
    assert stored_files(settings) == []
    assert not any(k.startswith("streaming:") for k in alice.ledger(redis_client))
    assert alice.submit(small).status_code == 202


@pytest.mark.parametrize("api_env", [{"JOBCAST_QUOTA_ACTIVE_JOBS": "2"}], ids=["2 active jobs"])
def test_a_new_upload_past_the_active_jobs_cap_is_429_until_a_job_ends(
    principal: MakePrincipal,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    alice = principal("alice")
    small = table(tmp_path / "small.csv", 1_000)
    # No worker runs yet: both jobs stay queued.
    first = alice.submit_ok(small)
    keyed = alice.submit(small, **{"Idempotency-Key": "k-2"})
    second = keyed.json()["id"]
    kept = stored_files(settings)

    declared = alice.submit(small)  # refused before its body is read
    streamed = post_streamed(alice, multipart_parts(8_192))

    for answer in (declared, streamed):
        assert answer.status_code == 429, answer.text
        error = answer.json()["error"]
        assert error["code"] == "too_many_active_jobs"
        assert error["details"] == {"active_jobs": 2}
        assert "You have 2 file jobs queued or running" in error["message"]
        assert "JOBCAST_QUOTA_ACTIVE_JOBS" in error["message"]
        assert answer.headers["Retry-After"] == str(ACTIVE_JOB_RETRY_S)
    assert stored_files(settings) == kept  # no file stored
    assert {job["id"] for job in alice.http.get("/jobs").json()["items"]} == {first, second}
    assert sorted(k.partition(":")[0] for k in alice.ledger(redis_client)) == ["upload"] * 2
    # A retry of a job that exists (its answer lost) gets that job: it makes no new one.
    retried = alice.submit(small, **{"Idempotency-Key": "k-2"})
    assert (retried.status_code, retried.json()["id"]) == (202, second)
    assert stored_files(settings) == kept  # the retry's copy is not kept
    assert principal("bob").submit(small).status_code == 202  # the cap is per principal

    # A cancelled job frees its place at once; ended ones as they end.
    assert alice.http.delete(f"/jobs/{first}").json()["status"] == "cancelled"
    third = alice.submit_ok(small)
    assert alice.submit(small).status_code == 429
    start_worker(queues="files")
    for job in (second, third):
        assert await_terminal(redis_client, job)["type"] == "job.succeeded"
    assert alice.submit(small).status_code == 202
