"""The launcher's log files, rotated by size.

A child writes to a pipe, and a thread of the launcher copies what comes out into
`<name>.log`. Past `MAX_LOG_BYTES` the file becomes `<name>.log.1` (the older ones shift up to
`.LOG_BACKUPS`, the oldest is dropped), so a long `jobcast up --demo` cannot fill the disk.
Rotating here rather than in each child works for every kind of child (Redis, Celery, Flower,
uvicorn) and loses nothing, where truncating a file a child still writes to would.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import BinaryIO

#: Size at which a log file is rotated.
MAX_LOG_BYTES = 10 * 1024 * 1024
#: Rotated files kept per child (`<name>.log.1` newest .. `<name>.log.N` oldest).
LOG_BACKUPS = 3
#: Bytes read from a child's pipe at once.
READ_CHUNK = 64 * 1024
#: The last bytes written through one `RotatingLog` kept in memory: why a child died is read
#: from what this run of it wrote, not from an earlier run's lines still in the file.
TAIL_BYTES = 8 * 1024


class RotatingLog:
    """An append-only log file that rotates itself before growing past `max_bytes`."""

    def __init__(self, path: Path, max_bytes: int = MAX_LOG_BYTES, backups: int = LOG_BACKUPS):
        self.path, self.max_bytes, self.backups = path, max_bytes, backups
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: BinaryIO = path.open("ab", buffering=0)
        self._size = path.stat().st_size
        #: The last TAIL_BYTES written through this object.
        self.tail = b""

    def write(self, data: bytes) -> None:
        if self._size and self._size + len(data) > self.max_bytes:
            self.rotate()
        self._file.write(data)
        self._size += len(data)
        self.tail = (self.tail + data[-TAIL_BYTES:])[-TAIL_BYTES:]

    def rotate(self) -> None:
        self._file.close()
        for n in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                older.replace(self.path.with_name(f"{self.path.name}.{n + 1}"))
        self.path.replace(self.path.with_name(f"{self.path.name}.1"))
        self._file, self._size = self.path.open("ab", buffering=0), 0

    def close(self) -> None:
        self._file.close()


def pump_into(fd: int, log: RotatingLog) -> threading.Thread:
    """Copy everything read from `fd` into `log` in a daemon thread, until end of file."""

    def copy() -> None:
        try:
            while chunk := os.read(fd, READ_CHUNK):
                log.write(chunk)
        finally:
            os.close(fd)
            log.close()

    thread = threading.Thread(target=copy, name=f"log-{log.path.name}", daemon=True)
    thread.start()
    return thread
