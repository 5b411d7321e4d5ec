"""This host's figures for the monitor (`jobcast.figures`), read from the real host."""

from __future__ import annotations

import socket
import threading
import time

from jobcast.figures import HostSampler

LOOPED_BYTES = 64 * 1024 * 1024


def send_over_loopback(size: int) -> None:
    """`size` bytes from one socket of this host to another, over 127.0.0.1."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def drain() -> None:
            conn, _ = server.accept()
            with conn:
                while conn.recv(1 << 20):
                    pass

        reader = threading.Thread(target=drain)
        reader.start()
        with socket.create_connection(("127.0.0.1", port)) as out:
            out.sendall(b"x" * size)
        reader.join(10)


def test_host_network_figures_leave_out_loopback_traffic() -> None:
    # Local Redis and WebSocket traffic is no network traffic: it showed as in == out exactly.
    sampler = HostSampler()
    started = time.time()
    sampler.sample()
    send_over_loopback(LOOPED_BYTES)
    figures = sampler.sample()
    elapsed = time.time() - started  # at least the time the rates are over
    assert figures["net_in_bytes_per_s"] * elapsed < LOOPED_BYTES / 4
    assert figures["net_out_bytes_per_s"] * elapsed < LOOPED_BYTES / 4
