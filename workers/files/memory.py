"""One job's own peak memory, and handing memory back between jobs.

A worker process runs job after job, so its lifetime high-water mark (`ru_maxrss`) says nothing
about the job that just ran. Linux lets a process reset its high-water mark (`VmHWM`) by writing
5 to `/proc/self/clear_refs`; where that is refused, a thread samples the resident size instead.
Between jobs the freed memory is returned to the system, so one job's arrays do not count
against the next one's budget; only when there is enough of it to matter (`RELEASE_ABOVE`).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import os
import threading
from functools import cache
from pathlib import Path
from types import TracebackType

import psutil
import pyarrow as pa

from workers.files.watchdog import proc_self, resident_bytes

#: Seconds between two samples of the resident size when the peak cannot be reset.
SAMPLE_INTERVAL = 0.02
_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")
#: Resident bytes above the level the last release left behind, past which memory is handed
#: back. Below it there is next to nothing to return, and the release (a collection, Arrow's
#: pool, glibc's trim) was a tenth of a tiny job's CPU in its pool process, twice per job; the
#: job's few cycles go in the collector's own time.
RELEASE_ABOVE = 16 * 1024**2


def freeze_baseline() -> None:
    """Leave every object the process holds now out of all later garbage collections.

    `release_memory` runs a full collection before and after each job; walking a worker's
    imports (Celery, pyarrow, pandas: over 100,000 objects) each time cost 20-25 ms a call,
    most of a tiny job's run. Frozen, they are never walked again (they live as long as the
    process), and a collection walks only what was made since: the jobs' garbage among it.
    Pandas is imported first: pyarrow imports it on a job's first numeric column.
    """
    importlib.import_module("pandas")
    gc.collect()
    gc.freeze()


def release_memory() -> None:
    """Return freed memory to the system: Python's cycles, Arrow's pool, and glibc's heap."""
    global _released_to
    gc.collect()
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):
        _libc().malloc_trim(0)
    _released_to = _resident()


#: This process's resident size after its last `release_memory` (0: none yet).
_released_to = 0


def release_if_grown(resident: int) -> int:
    """`release_memory`, when `resident` is `RELEASE_ABOVE` past what the last release left;
    the resident size after it."""
    if resident > _released_to + RELEASE_ABOVE:
        release_memory()
        return _released_to
    return resident


@cache
def _this_process(pid: int) -> psutil.Process:
    # One per process (a forked pool process asks with its own pid): making one reads
    # /proc/<pid>/stat, about as much as a tiny job's other memory reads together.
    return psutil.Process(pid)


def _resident() -> int:
    # statm through the watchdog's kept descriptor (one pread, ~1 us); psutil (an open and a
    # parse, ~10 us, twice a job) only where there is no /proc. Both read the same figure.
    return resident_bytes() or int(_this_process(os.getpid()).memory_info().rss)


@cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL("libc.so.6")  # loaded once: each load was a library lookup


class JobMemory:
    """`with JobMemory() as memory: ...` then `memory.peak` is the process's peak RSS (bytes)
    while the block ran."""

    def __init__(self, sample_only: bool = False) -> None:
        self.peak = 0
        self._sample_only, self._reset = sample_only, False
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None

    def __enter__(self) -> JobMemory:
        # What the last job freed must not count as this one's.
        self.peak = release_if_grown(_resident())
        self._reset = not self._sample_only and _reset_high_water_mark()
        if not self._reset:
            self._sampler = threading.Thread(target=self._sample, name="jobcast-rss", daemon=True)
            self._sampler.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._sampler is not None:
            self._sampler.join()
        # The high-water mark covers every moment since its reset, this one included.
        latest = _high_water_mark() if self._reset else _resident()
        self.peak = max(self.peak, latest)
        release_if_grown(self.peak)  # an idle worker should not sit on the job's memory

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL):
            self.peak = max(self.peak, _resident())


#: Whether this kernel keeps a high-water mark that `clear_refs` resets (None: not tried yet).
_resettable: bool | None = None


def _reset_high_water_mark() -> bool:
    global _resettable
    if _resettable is False:
        return False
    try:
        os.pwrite(proc_self(_CLEAR_REFS, os.O_WRONLY), b"5", 0)
    except OSError:
        _resettable = False
        return False
    if _resettable is None:  # asked once per process: the kernel does not change
        _resettable = _high_water_mark() > 0
    return _resettable


def _high_water_mark() -> int:
    try:
        status = os.pread(proc_self(_STATUS), 8192, 0).decode()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0
