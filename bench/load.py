"""A small HTTP/1.1 keep-alive load generator for 127.0.0.1, in Python so `make bench` needs
nothing but Python: `connections` clients each send one request, read its whole response, and
send the next, for `seconds` (a bounded time, never an open-ended flood).

It writes raw request bytes and parses only the status line and Content-Length, on a bare
asyncio protocol: an HTTP client library would spend more CPU per request than the servers it
measures, on the same two cores. `Load.cpu_share` says when it was the bottleneck anyway.
The same generator drives Jobcast and every reference, so its cost lands on both sides alike.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass
class Load:
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    cpu: float = 0.0

    @property
    def per_second(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    @property
    def cpu_share(self) -> float:
        """The generator's own CPU use as a share of one core: near 1.0 it is the bottleneck,
        and the figure is the generator's ceiling, not the server's."""
        return self.cpu / self.elapsed if self.elapsed else 0.0


def request_bytes(path: str, port: int, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def content_length(head: bytes) -> int:
    """The body's length from a response head (the status line and headers, no blank line)."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise ValueError("a response without Content-Length (the servers measured all send it)")


class _Client(asyncio.Protocol):
    """One keep-alive connection: a request, its whole response, the next request. A bare
    protocol, not streams: the generator's CPU per request is what limits the references."""

    def __init__(self, raw: bytes, until: float, load: Load, record: bool) -> None:
        self.raw, self.until, self.load, self.record = raw, until, load, record
        self.buffer = b""
        self.started = 0.0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self._send()

    def _send(self) -> None:
        self.started = time.perf_counter()
        self.transport.write(self.raw)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        size = end + 4 + content_length(self.buffer[:end])
        if len(self.buffer) < size:
            return
        now, head = time.perf_counter(), self.buffer[:12]
        self.buffer = self.buffer[size:]
        self.load.requests += 1
        self.load.errors += head[9:12] != b"200"
        if self.record:
            self.load.latencies.append(now - self.started)
        if now < self.until:
            self._send()
        else:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def _client(port: int, raw: bytes, until: float, load: Load, record: bool) -> None:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(
        lambda: _Client(raw, until, load, record), "127.0.0.1", port
    )
    await client.done


async def drive(
    port: int, path: str, headers: dict[str, str], connections: int, seconds: float
) -> Load:
    """Requests/s (and, for one connection, each request's latency) over `seconds`."""
    raw, load = request_bytes(path, port, headers), Load()
    started, cpu_started = time.perf_counter(), time.process_time()
    until = started + seconds
    await asyncio.gather(
        *(_client(port, raw, until, load, connections == 1) for _ in range(connections))
    )
    load.elapsed = time.perf_counter() - started
    load.cpu = time.process_time() - cpu_started
    return load


def run(port: int, path: str, headers: dict[str, str], connections: int, seconds: float) -> Load:
    try:
        import uvloop

        return uvloop.run(drive(port, path, headers, connections, seconds))
    except ImportError:
        return asyncio.run(drive(port, path, headers, connections, seconds))
