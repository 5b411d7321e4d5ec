"""A watch on an HTTP answer's writes: one that makes no progress for a bounded time is given up.

uvicorn has no write timeout. A client that asks for a large answer (a download, a long list)
and stops reading, while its TCP stack keeps the connection up with a zero window, leaves the
answer in the write buffer for good: the app waits in `send` for a drain that never comes, so the
request kept its open file, the answer in memory and its connection's place. Progress is bytes
reaching the client, not the answer finishing: a slow client that reads is never cut.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Callable

# `tcpi_bytes_acked` in Linux's `struct tcp_info` (since 4.1): a count that grows with every byte
# the client takes. The buffer's size alone says little: the kernel's send buffer (megabytes on
# a fast link) takes more from it only once a third of it is free, so a client reading 10 KiB/s
# would leave it unchanged for minutes.
_ACKED = struct.Struct("=Q")
_ACKED_OFFSET = 120
_TCP_INFO = getattr(socket, "TCP_INFO", None)


def bytes_acknowledged(transport: asyncio.BaseTransport) -> int:
    """Bytes the client's TCP stack has acknowledged; 0 where the system does not say."""
    sock = transport.get_extra_info("socket")
    if _TCP_INFO is None or sock is None:
        return 0
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO, _ACKED_OFFSET + _ACKED.size)
    except OSError:  # closed meanwhile, or not TCP
        return 0
    if len(info) < _ACKED_OFFSET + _ACKED.size:
        return 0
    return int(_ACKED.unpack_from(info, _ACKED_OFFSET)[0])


class WriteProgressWatch:
    """Calls `on_stall` once `transport`'s write buffer has held data for `seconds` while none of
    the answer reached the client (JOBCAST_API_SEND_TIMEOUT). Started only when the buffer backs
    up, so an answer that fits the socket costs nothing."""

    __slots__ = (
        "_acked",
        "_drained",
        "_loop",
        "_on_stall",
        "_seconds",
        "_size",
        "_timer",
        "_transport",
    )

    def __init__(
        self,
        transport: asyncio.WriteTransport,
        loop: asyncio.AbstractEventLoop,
        seconds: float,
        on_stall: Callable[[], None],
    ) -> None:
        self._transport, self._loop, self._seconds = transport, loop, seconds
        self._on_stall = on_stall
        self._timer: asyncio.TimerHandle | None = None
        self._size = self._acked = 0
        self._drained = False

    def start(self) -> None:
        """Watch from now, unless already watching or nothing is waiting to be sent."""
        if self._timer is None and self._transport.get_write_buffer_size():
            self._arm()

    def drained(self) -> None:
        """The buffer fell below its low-water mark (the protocol's `resume_writing`): progress,
        even if the answer's next writes have filled it again by the next look."""
        self._drained = True

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self) -> None:
        self._size = self._transport.get_write_buffer_size()
        self._acked = bytes_acknowledged(self._transport)
        self._drained = False
        self._timer = self._loop.call_later(self._seconds, self._look)

    def _look(self) -> None:
        self._timer = None
        size = self._transport.get_write_buffer_size()
        if not size:
            return  # all handed to the kernel: the next backlog starts a new watch
        if self._moved(size):
            self._arm()
        else:
            self._on_stall()

    def _moved(self, size: int) -> bool:
        if self._drained or size < self._size:
            return True
        return bytes_acknowledged(self._transport) > self._acked
