"""An upload that stops sending against a real api whose idle limit is 1 s: the api cuts it
408 `upload_stalled` (nothing kept); the client sends a seekable file again by itself, and
says plainly, when it cannot, that nothing was stored and the file is to be sent again."""

from __future__ import annotations

import io
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from jobcast.client import Client, RetryPolicy, UnavailableError, UploadStalledError
from tests.client.test_cli import JOBCAST
from tests.conftest import SharedStack, module_stack

IDLE_ENV = {"JOBCAST_UPLOAD_IDLE_TIMEOUT": "1"}
#: Longer than the api's idle limit, with room for its check to run.
PAUSE_S = 3.0
TABLE = b"a,b\n" + b"1,2\n" * 100_000


class PausingFile(io.BytesIO):
    """A seekable file whose second read, on its first pass only, takes `PAUSE_S`: the client
    has sent the body's head and a chunk, then nothing, as over a connection gone quiet."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0

    def read(self, size: int | None = -1) -> bytes:
        self.reads += 1
        if self.reads == 2:
            time.sleep(PAUSE_S)
        return super().read(size)


#: One api for the module: a cut upload is the request's alone, and each test has a key (and so
#: jobs) of its own.
stack = module_stack(api_env=IDLE_ENV)


@pytest.fixture
def stalling_api(stack: SharedStack) -> tuple[str, str]:
    """(the api's URL, a new principal's key) of an api that cuts an upload silent for 1 s."""
    key, _ = stack.new_key("stalled")
    return stack.url, key


def test_a_stalled_upload_of_a_seekable_file_is_sent_again_and_makes_one_job(
    stalling_api: tuple[str, str],
) -> None:
    url, key = stalling_api
    retries: list[tuple[int, float]] = []
    with Client(url, key, on_retry=lambda status, wait: retries.append((status, wait))) as client:
        job = client.submit_file(PausingFile(TABLE))  # no Idempotency-Key: none is needed
        jobs = list(client.jobs())
    assert [status for status, _ in retries] == [408]
    assert [j.id for j in jobs] == [job.id]


def test_a_stalled_upload_past_the_retries_says_nothing_was_stored(
    stalling_api: tuple[str, str],
) -> None:
    url, key = stalling_api
    with Client(url, key, retry=RetryPolicy(max_retries=0)) as client:
        with pytest.raises(UploadStalledError) as raised:
            client.submit_file(PausingFile(TABLE), idempotency_key="once")
        assert list(client.jobs()) == []
    error = raised.value
    assert isinstance(error, UnavailableError)  # a connection's trouble, not a wrong request
    assert (error.status, error.code) == (408, "upload_stalled")
    assert error.details == {"idle_timeout_s": 1}


def test_the_cli_says_the_upload_stalled_and_to_send_the_file_again(
    stalling_api: tuple[str, str], tmp_path: Path
) -> None:
    # A pipe cannot be sent again by the client: the stall ends the command.
    url, key = stalling_api
    fifo = tmp_path / "slow.csv"
    os.mkfifo(fifo)
    feeder = threading.Thread(target=_feed_then_pause, args=(fifo,))
    feeder.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCAST_")}
    env |= {
        "JOBCAST_URL": url,
        "JOBCAST_API_KEY": key,
        "JOBCAST_CONFIG": str(tmp_path / "config.json"),
        "JOBCAST_DATA_DIR": str(tmp_path / "no-stack"),
    }
    try:
        done = subprocess.run(
            [*JOBCAST, "submit", str(fifo)], env=env, capture_output=True, text=True, timeout=60
        )
    finally:
        feeder.join(30)
    said = " ".join(done.stderr.split())
    assert done.returncode == 5, done.stderr
    assert "error upload_stalled: The upload stalled: nothing reached the server for 1 s" in said
    assert "nothing was stored and no job was made" in said
    assert "send the file again" in said


def _feed_then_pause(fifo: Path) -> None:
    with fifo.open("wb") as pipe:
        pipe.write(TABLE[:4096])
        pipe.flush()
        time.sleep(PAUSE_S)
        pipe.write(TABLE[4096:])
