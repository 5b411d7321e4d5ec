"""This host's figures for the monitor (`jobcast.figures`), read from the real host."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from subprocess import PIPE

import psutil

from jobcast.figures import HostSampler, process_figures

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


def test_a_report_with_children_counts_theirs_and_one_without_reads_only_its_own() -> None:
    """A worker's jobs run in its pool processes, counted; an api process starts none, and the
    walk of the host's whole process table that finds children cost its event loop ~30 ms."""
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=PIPE)
    try:
        time.sleep(0.2)  # its interpreter loaded: resident pages to count
        with_children = process_figures("worker", "h", {})["rss_bytes"]
        own = psutil.Process().memory_info().rss
        alone = process_figures("api", "h", {}, children=False)["rss_bytes"]
    finally:
        child.communicate(b"", timeout=10)
    assert with_children > own + 4 * 2**20
    assert abs(alone - own) < 4 * 2**20
