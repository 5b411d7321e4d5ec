"""The memory budget, enforced: a thread ends the job whose process grows past it.

The readers size their batches so a job stays under `JOBCAST_JOB_MEMORY_BUDGET`, but some
inputs can only be measured once decoded (a Parquet page compressed a thousandfold, nested
values). A thread samples the process's resident size every few milliseconds; past the limit it
leaves a note of the job's failure (`memory_limit`) and kills its own process at once, since the
main thread may be inside a C call that allocates and cannot be interrupted. Nothing on that path
waits for Redis: a commit there (round trips, GIL handoffs to a job's thread still decoding) let
a loaded process grow 50 MB past its budget before the kill. The worker's main process commits
the failure from the note, before the task's message is handed back (`workers.files.breaches`);
Celery's pool starts a fresh process, and the redelivered message finds the job failed and does
nothing more.
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import threading
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import TracebackType

from workers import stop_logs

log = logging.getLogger("jobcast.files")

#: Seconds between two samples of the resident size (reading statm costs microseconds).
WATCH_INTERVAL = 0.005
_STATM = Path("/proc/self/statm")
_PAGE = resource.getpagesize()


def watch_limit(budget: int) -> int:
    """Resident bytes at which a job is ended: the budget less headroom for the growth between
    two samples and before the kill (the job's thread runs on). The figures below were measured
    while the failure was still committed before the kill, now done after it (a note is left).
    In a loaded fresh-clone `make test` a Parquet column went 16 MiB past the sample that saw
    the limit, 4 MiB over a 384 MiB budget with 1/32 of headroom; that commit took 1.6-11 ms
    when measured alone, beside CPU burners. With 1/16 (24 MiB), a `make test` beside another
    engineer's tests (load near 4 on 2 cores) went 25 MiB past, 1 MiB over: 1/12 (32 MiB)."""
    return budget - max(16 * 1024**2, budget // 12)


class MemoryWatchdog:
    """`with MemoryWatchdog(limit, on_breach):` runs the block; if the process's resident size
    passes `limit`, `on_breach(rss)` is called from the watchdog thread, then the process is
    killed (it never returns to the block). `on_breach` must be quick and local (a note)."""

    def __init__(self, limit: int, on_breach: Callable[[int], None]) -> None:
        self.limit, self.on_breach = limit, on_breach
        self._token: object | None = None

    def __enter__(self) -> MemoryWatchdog:
        if resident_bytes() > 0:  # no /proc (not Linux): the batch sizing alone applies
            self._token = _watcher().arm(self.limit, self.on_breach)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._token is not None:
            _watcher().disarm(self._token)


class _Watcher:
    """The process's one watchdog thread: it samples while a block is armed, else it sleeps.

    One thread for the process's lifetime, not one per job: starting and joining a thread cost
    a tiny job about as much as its whole profile.
    """

    def __init__(self) -> None:
        # Held while a sample is judged: once `disarm` returns, that block sees no breach.
        self._lock = threading.Lock()
        self._armed = threading.Event()
        self._watched: dict[object, tuple[int, Callable[[int], None]]] = {}
        self.pid = os.getpid()
        threading.Thread(target=self._watch, name="jobcast-memory", daemon=True).start()

    def arm(self, limit: int, on_breach: Callable[[int], None]) -> object:
        token = object()
        with self._lock:
            self._watched[token] = (limit, on_breach)
            self._armed.set()
        return token

    def disarm(self, token: object) -> None:
        with self._lock:
            self._watched.pop(token, None)
            if not self._watched:
                self._armed.clear()

    def _watch(self) -> None:
        while self._armed.wait():
            time.sleep(WATCH_INTERVAL)
            with self._lock:
                if self._watched:
                    rss = resident_bytes()
                    for limit, on_breach in self._watched.values():
                        _judge(rss, limit, on_breach)


def _judge(rss: int, limit: int, on_breach: Callable[[int], None]) -> None:
    if rss > limit:
        try:
            on_breach(rss)
        except Exception:  # the redelivered task decides: killing is a must
            log.exception("could not leave a note of a job's memory_limit failure")
        recycle_process("a file job went over its memory budget")


_current: _Watcher | None = None
_starting = threading.Lock()


def _watcher() -> _Watcher:
    """This process's watchdog thread, started on first use (a forked child has none)."""
    global _current
    with _starting:
        if _current is None or _current.pid != os.getpid():
            _current = _Watcher()
        return _current


def resident_bytes() -> int:
    try:
        return int(os.pread(proc_self(_STATM), 64, 0).split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def proc_self(path: Path, flags: int = os.O_RDONLY) -> int:
    """A descriptor of `path` under /proc/self, opened once per process: a read (or write) is
    then one pread, ~2 us instead of ~15 for an open, read and close; the watchdog reads
    `statm` every few milliseconds of every job, and each job reads `status` and writes
    `clear_refs` (`workers.files.memory`)."""
    return _opened(path, flags, os.getpid())


@cache
def _opened(path: Path, flags: int, pid: int) -> int:
    # Per pid: `self` is resolved when opened, so a forked pool process opens its own.
    return os.open(path, flags | os.O_CLOEXEC)


def recycle_process(reason: str) -> None:
    """End this pool process now; Celery's pool replaces it with a fresh one. `reason` is left
    for the worker's main process, which then logs the loss as planned (`stop_logs`)."""
    stop_logs.leave_recycle_note(os.getpid(), reason)
    logging.shutdown()
    os.kill(os.getpid(), signal.SIGKILL)
