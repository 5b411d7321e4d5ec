"""A client that asks for a large answer and stops reading, keeping its connection up, is dropped
once none of the answer reaches it for JOBCAST_API_SEND_TIMEOUT: its request ends, its file is
closed and its connection's place given back. Before, uvicorn waited for the drain without end
(probe: a download's file, its connection and its in-flight count still held a minute later). A
client that reads, however slowly, is never cut."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httpx
import psutil
import pytest

from api.write_progress import WriteProgressWatch, bytes_acknowledged
from tests.conftest import SharedStack, module_stack
from tests.support.processes import wait_for
from tests.workers.files.support import JobsClient, await_terminal

#: An api that gives up on an answer after 1 s without progress, and a worker to convert a file.
stack = module_stack(api_env={"JOBCAST_API_SEND_TIMEOUT": "1"}, worker_queues="files")

#: Rows of the converted table: ~6 MB, past the kernel's buffers on both ends (~3 MB here).
ROWS = 200_000


@dataclass
class Download:
    key: str
    path: str
    size: int


@pytest.fixture(scope="module")
def download(stack: SharedStack, tmp_path_factory: pytest.TempPathFactory) -> Download:
    table = tmp_path_factory.mktemp("table") / "big.csv"
    with table.open("w") as f:
        f.write("a,b,c\n")
        f.writelines(f"{i},{'x' * 20},{i * 7}\n" for i in range(ROWS))
    key, _ = stack.new_key("downloader")
    jobs = JobsClient(stack.url, key)
    job_id = jobs.submit_ok(table, json.dumps({"operation": "convert", "to": "csv"}))
    jobs.http.close()
    assert await_terminal(stack.redis, job_id, 120)["type"] == "job.succeeded"
    return Download(key, f"/jobs/{job_id}/artifact", table.stat().st_size)


@contextlib.contextmanager
def asking(stack: SharedStack, download: Download) -> Iterator[socket.socket]:
    """A connection on a tiny receive buffer that has asked for the download."""
    parts = urlsplit(stack.url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with contextlib.closing(sock):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((parts.hostname, parts.port))
        sock.settimeout(5)
        sock.sendall(
            f"GET {download.path} HTTP/1.1\r\nHost: x\r\nX-API-Key: {download.key}\r\n\r\n".encode()
        )
        yield sock


def dropped_lines(stack: SharedStack, sock: socket.socket) -> list[str]:
    assert stack.api is not None
    client = f"('127.0.0.1', {sock.getsockname()[1]})"
    return [
        x for x in stack.api.output().splitlines() if f"dropped a connection from {client}" in x
    ]


def api_holds(stack: SharedStack, sock: socket.socket) -> dict[str, bool]:
    assert stack.api is not None
    api = psutil.Process(stack.api.popen.pid)
    port = sock.getsockname()[1]
    in_flight = next(
        x for x in httpx.get(f"{stack.url}/metrics").text.splitlines()
        if x.startswith("jobcast_http_requests_in_flight ")
    )  # fmt: skip
    return {
        "file": any("/artifacts/" in f.path for f in api.open_files()),
        "connection": any(c.raddr and c.raddr.port == port for c in api.net_connections("tcp")),
        "request": float(in_flight.split()[1]) > 1,  # the scrape counts itself
    }


def test_a_download_whose_client_stops_reading_is_dropped_and_gives_everything_back(
    stack: SharedStack, download: Download
) -> None:
    with asking(stack, download) as sock:
        started = time.monotonic()
        wait_for(lambda: bool(dropped_lines(stack, sock)), 10, "the stalled download dropped")
        assert time.monotonic() - started < 6  # the backlog, 1 s without progress, a look
        wait_for(lambda: not any(api_holds(stack, sock).values()), 5, "everything given back")
        assert len(dropped_lines(stack, sock)) == 1
        assert " INFO " in dropped_lines(stack, sock)[0]
        received = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                received += chunk
        assert received.startswith(b"HTTP/1.1 200")
        assert len(received) < download.size  # cut, not finished


def test_a_download_read_a_trickle_at_a_time_is_not_cut(
    stack: SharedStack, download: Download
) -> None:
    # ~13 KiB/s: the kernel's full send buffer takes nothing more from the api's for minutes, so
    # the api must see the bytes the client takes, not only its own buffer shrinking.
    with asking(stack, download) as sock:
        received = 0
        until = time.monotonic() + 4  # four times the timeout
        while time.monotonic() < until:
            received += len(sock.recv(4096))
            time.sleep(0.3)
        assert not dropped_lines(stack, sock)
        assert all(api_holds(stack, sock).values())
        assert received < download.size  # still downloading


class Transport:
    """A write buffer of a given size, for the watch's own logic."""

    def __init__(self) -> None:
        self.size = 0

    def get_write_buffer_size(self) -> int:
        return self.size

    def get_extra_info(self, name: str) -> None:
        return None  # no socket: the buffer alone tells progress


class Handle:
    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback, self.cancelled = callback, False

    def cancel(self) -> None:
        self.cancelled = True


class Loop:
    """Runs the watch's one pending look when told to."""

    def __init__(self) -> None:
        self.pending: list[Handle] = []

    def call_later(self, delay: float, callback: Callable[[], None]) -> Handle:
        self.pending.append(Handle(callback))
        return self.pending[-1]

    def look(self) -> None:
        handle = self.pending.pop()
        assert not self.pending
        if not handle.cancelled:
            handle.callback()


Watched = tuple[Transport, Loop, list[str], WriteProgressWatch]


@pytest.fixture
def watched() -> Watched:
    transport, loop, stalls = Transport(), Loop(), []
    watch = WriteProgressWatch(
        cast(asyncio.WriteTransport, transport), cast(asyncio.AbstractEventLoop, loop), 60,
        lambda: stalls.append("stalled"),
    )  # fmt: skip
    return transport, loop, stalls, watch


def test_an_answer_that_fits_the_socket_starts_no_watch(watched: Watched) -> None:
    _, loop, _, watch = watched
    watch.start()
    assert not loop.pending


def test_a_backlog_that_shrinks_or_drains_is_watched_on_one_that_does_not_stalls(
    watched: Watched,
) -> None:
    transport, loop, stalls, watch = watched
    transport.size = 100_000
    watch.start()
    watch.start()  # once
    transport.size = 90_000
    loop.look()  # shrank
    transport.size = 120_000
    watch.drained()
    loop.look()  # drained below the low-water mark, and refilled by the next writes
    assert not stalls
    loop.look()  # no change
    assert stalls == ["stalled"]
    assert not loop.pending


def test_a_backlog_that_empties_ends_the_watch(watched: Watched) -> None:
    transport, loop, stalls, watch = watched
    transport.size = 10
    watch.start()
    transport.size = 0
    loop.look()
    assert not loop.pending
    assert not stalls


def test_bytes_acknowledged_grow_as_the_peer_takes_them() -> None:
    async def sent(count: int) -> tuple[int, int]:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        before = bytes_acknowledged(writer.transport)
        writer.write(b"x" * count)
        await writer.drain()
        await asyncio.sleep(0.2)
        after = bytes_acknowledged(writer.transport)
        writer.close()
        server.close()
        return before, after

    before, after = asyncio.run(sent(1000))
    assert after - before == 1000
