"""Ports for tests that need one taken."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def port_held(port: int = 0) -> Iterator[int]:
    """`port` (0: any free one) listened on by another program while the block runs."""
    with socket.socket() as holder:
        # As a server binds: a port a stopped one left connections of in TIME_WAIT is free.
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", port))
        holder.listen()
        yield int(holder.getsockname()[1])
