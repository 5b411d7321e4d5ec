"""Run a command in a pseudo-terminal, as a user's shell would, and collect what it shows."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
import time

#: Rows and columns of the pretend terminal.
SIZE = (40, 120)


def run_in_terminal(argv: list[str], env: dict[str, str], timeout: float = 90) -> tuple[int, str]:
    """(exit code, everything written to the terminal, escape codes included)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *SIZE, 0, 0))
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    try:
        output = _read_all(master, time.monotonic() + timeout)
        return proc.wait(timeout=10), output
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


def _read_all(fd: int, deadline: float) -> str:
    chunks: list[bytes] = []
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the command exited and closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode(errors="replace")
