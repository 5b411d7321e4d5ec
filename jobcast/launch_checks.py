"""What `jobcast up` makes sure of before it starts anything.

One stack per data directory: a second `jobcast up` from the same checkout would open the first
one's Redis files, write into its logs and delete its `redis.url` when it stopped. And the ports
the stack listens on must be free: a readiness check that reaches someone else's server on the
API's port would announce a stack whose own API never started.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from jobcast.filemodes import make_private_dir


class LaunchError(Exception):
    """The stack cannot start; the message says what to do."""


#: The file `jobcast up` holds its lock on, in the data directory; it holds the holder's pid.
LOCK_FILE = "up.lock"


def require_unheld(data_dir: Path) -> None:
    """Raise LaunchError when another `jobcast up` holds `data_dir`. Only looks (a shared lock,
    let go at once) and creates nothing, so a start refused here leaves no file behind."""
    try:
        fd = os.open(data_dir / LOCK_FILE, os.O_RDONLY)
    except FileNotFoundError:
        return  # never held: not even the directory may exist yet
    try:
        _lock_or_refuse(fd, fcntl.LOCK_SH, data_dir)
    finally:
        os.close(fd)


@contextlib.contextmanager
def data_dir_held(data_dir: Path) -> Iterator[None]:
    """Hold `data_dir` for this process while the block runs, or raise LaunchError when another
    `jobcast up` holds it. An advisory lock on a file: the kernel drops it when the holder
    exits, however it exits, so a killed stack never leaves a stale lock behind."""
    make_private_dir(data_dir)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _lock_or_refuse(fd, fcntl.LOCK_EX, data_dir)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _lock_or_refuse(fd: int, mode: int, data_dir: Path) -> None:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        raise LaunchError(
            f"a `jobcast up` (pid {holder}) is already running from {data_dir.resolve()}: "
            "use that one, stop it first (Ctrl-C in its terminal), or give this one its "
            "own JOBCAST_DATA_DIR and ports"
        ) from None


def require_free_ports(ports: dict[str, tuple[str, int]]) -> None:
    """Raise LaunchError, naming the setting to change, for every `name -> (host, port)` the
    stack could not listen on (another program there, an address not on this host): all of
    them in one refusal, not one per attempt."""
    refusals = [
        port_refusal(name, host, port, problem)
        for name, (host, port) in ports.items()
        if (problem := _bind_problem(host, port))
    ]
    if refusals:
        raise LaunchError("\n  ".join(refusals))  # one line each, under "jobcast error:"


def port_refusal(name: str, host: str, port: int, problem: str) -> str:
    """Why the stack cannot listen on `host:port` for part `name`, and the setting to change
    (the `--ha` Redis servers have none: they take free ports at each start)."""
    if name not in PORT_SETTINGS:
        return f"cannot listen on {host}:{port} ({name}): {problem}; start the stack again"
    return (
        f"cannot listen on {host}:{port} ({name}): {problem}; stop what holds it, or "
        f"choose another with JOBCAST_{name.upper()}_PORT or `jobcast up --{name}-port`"
    )


#: The parts whose port is a setting (JOBCAST_<NAME>_PORT, `jobcast up --<name>-port`).
PORT_SETTINGS = frozenset({"api", "flower", "redis"})


def says_address_in_use(output: str) -> bool:
    """Whether a server's output says it could not bind its port because another program
    holds it: Python's OSError (Flower), uvicorn's and Redis's own words all carry this."""
    return "address already in use" in output.lower()


def can_listen(host: str, port: int) -> bool:
    return not _bind_problem(host, port)


def _bind_problem(host: str, port: int) -> str:
    """Why a server could not listen on `host:port`, or "" when it could."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn and Tornado bind: a port whose last connections linger in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return "another program listens there"
            return exc.strerror or str(exc)
    return ""
