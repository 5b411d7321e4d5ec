"""A TCP proxy for tests that can make its connections die silently, as a NAT or firewall does.

`blackhole()` stops forwarding on every connection open at that moment, both ways, without
closing either side: the peers see a half-open connection (writes succeed, nothing ever comes
back, no FIN, no RST). Connections made afterwards are forwarded as usual. `hold_after(marker)`
lands a test's action at one point of a client's conversation: once a client sends `marker`, what
any client sends next waits until `release()` (answers still come back); `hold_at(marker)` holds
the send holding `marker` itself too. The proxy runs its own
event loop in a thread, so synchronous tests can drive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
CHUNK = 65_536


@dataclass
class _Link:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    pumps: list[asyncio.Task[None]] = field(default_factory=list)

    def close(self, abort: bool = False) -> None:
        for pump in self.pumps:
            if pump is not asyncio.current_task():
                pump.cancel()
        for writer in (self.client, self.server):
            # A held link's buffers may never drain, and a graceful close would wait for them.
            if abort:
                writer.transport.abort()
            else:
                writer.close()


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._links: list[_Link] = []
        #: Blackholed links: kept (open, unread) until the proxy stops.
        self._held: list[_Link] = []
        #: Cleared while clients' sends are held (`hold_after`).
        self._sends_open = asyncio.Event()
        self._sends_open.set()
        self._hold_marker: bytes | None = None
        #: Whether the send holding the marker is held too (`hold_at`), or only the next ones.
        self._hold_marked = False
        self._holding = threading.Event()

    def start(self, port: int = 0) -> None:
        """Listen on `port` (0: a free one, then in `self.port`)."""
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._accept, "127.0.0.1", port))
        self.port = self._server.sockets[0].getsockname()[1]

    def blackhole(self) -> int:
        """Silence every open connection; returns how many there were."""
        return self._call(self._blackhole())

    def hold_after(self, marker: bytes) -> threading.Event:
        """Once a client's send holding `marker` is forwarded, hold every client's next sends
        until `release()`; the event returned is set from then on."""
        return self._hold(marker, marked_too=False)

    def hold_at(self, marker: bytes) -> threading.Event:
        """As `hold_after`, but the send holding `marker` waits for `release()` too."""
        return self._hold(marker, marked_too=True)

    def _hold(self, marker: bytes, marked_too: bool) -> threading.Event:
        self._holding.clear()
        self._loop.call_soon_threadsafe(self._set_hold, marker, marked_too)
        return self._holding

    def _set_hold(self, marker: bytes, marked_too: bool) -> None:
        self._hold_marker, self._hold_marked = marker, marked_too

    def release(self) -> None:
        self._loop.call_soon_threadsafe(self._sends_open.set)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._sends_open.set)  # held pumps end with their links
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        link = _Link(writer, up_writer)
        link.pumps = [
            asyncio.create_task(self._pump(reader, up_writer, link, sends=True)),
            asyncio.create_task(self._pump(up_reader, writer, link)),
        ]
        self._links.append(link)

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        link: _Link,
        sends: bool = False,
    ) -> None:
        """Forward `source` to `sink`; `sends`: a client's to its server (those a hold holds)."""
        with contextlib.suppress(OSError):
            while data := await source.read(CHUNK):
                if sends:
                    self._hold_if_marked(data, before_sending=True)
                    await self._sends_open.wait()
                sink.write(data)
                await sink.drain()
                if sends:
                    self._hold_if_marked(data, before_sending=False)
        # One side closed (or failed): close the other, as a direct connection would.
        if link in self._links:
            self._links.remove(link)
            link.close()

    def _hold_if_marked(self, data: bytes, before_sending: bool) -> None:
        if self._hold_marked != before_sending:
            return
        if self._hold_marker is not None and self._hold_marker in data:
            self._hold_marker = None
            self._sends_open.clear()
            self._holding.set()

    async def _blackhole(self) -> int:
        links, self._links = self._links, []
        for link in links:
            for pump in link.pumps:
                pump.cancel()
        self._held.extend(links)
        return len(links)

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        links, self._links, self._held = self._links + self._held, [], []
        for link in links:
            link.close(abort=True)
        pumps = [pump for link in links for pump in link.pumps]
        await asyncio.gather(*pumps, return_exceptions=True)
        await asyncio.sleep(0)  # let the aborted transports release their sockets
