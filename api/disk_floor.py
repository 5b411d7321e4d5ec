"""The free space an upload leaves on the data directory's disk.

Quotas are per owner: many owners within theirs, or one upload larger than what is free, could
still fill the disk the workers, Redis' AOF (embedded Redis keeps it on the same disk by default)
and the converted files share. So an upload that would leave less than the floor the workers
keep free (`Settings.job_min_free_disk_bytes`) is refused with 507 `storage_full`: before a
byte is stored when its Content-Length says it would, else as it streams in (other uploads run
at the same time). A disk that fills all the same (ENOSPC) gets the same answer.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

from api.errors import ApiError

#: Bytes received between two looks at the disk while an upload streams: a statvfs costs a few
#: microseconds, and up to this much (plus a chunk) may be written past the floor.
CHECK_EVERY = 8 * 1024**2
#: `Retry-After` of a 507: disk comes back as jobs end and files expire, or when an operator
#: frees some; a poll interval, not a promise.
STORAGE_FULL_RETRY_S = 60
#: The errors of a write the disk (or a filesystem quota) had no room for.
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
#: What a client and an operator can do about a full disk.
_WHAT_TO_DO = (
    "Retry later; operators: free space on the data directory's disk, or lower "
    "JOBCAST_JOB_MIN_FREE_DISK_BYTES."
)


def leaves_too_little(free: int, coming: int, floor: int) -> bool:
    """Whether writing `coming` more bytes would leave less than `floor` free (0: no floor)."""
    return floor > 0 and free - coming < floor


def free_bytes(directory: Path) -> int:
    """Bytes a writer may still use on `directory`'s disk, asked of its nearest existing
    ancestor: the uploads directory is only made by the first upload."""
    for path in (directory, *directory.parents):
        try:
            stats = os.statvfs(path)
        except FileNotFoundError:
            continue
        return stats.f_bavail * stats.f_frsize
    raise FileNotFoundError(directory)


def under_floor(free: int, coming: int, floor: int) -> ApiError:
    return ApiError(
        507,
        "storage_full",
        f"The server's disk has {free / 2**20:,.0f} MiB free, and this upload would leave less "
        f"than the {floor / 2**20:,.0f} MiB it keeps free (JOBCAST_JOB_MIN_FREE_DISK_BYTES): "
        f"nothing of it was kept. {_WHAT_TO_DO}",
        {"free_bytes": free, "min_free_bytes": floor, "needed_bytes": coming},
        headers={"Retry-After": str(STORAGE_FULL_RETRY_S)},
    )


def disk_full() -> ApiError:
    """The answer for a write the disk refused (ENOSPC): the floor's, as the workers say it."""
    return ApiError(
        507,
        "storage_full",
        f"The server's disk is full: nothing of this upload was kept. {_WHAT_TO_DO}",
        headers={"Retry-After": str(STORAGE_FULL_RETRY_S)},
    )


class DiskFloor:
    """One upload's looks at the free space of the disk it is written to."""

    def __init__(
        self, directory: Path, floor: int, free_of: Callable[[Path], int] = free_bytes
    ) -> None:
        self._directory, self._floor, self._free_of = directory, floor, free_of
        self._declared = 0
        self._checked_at = 0

    def admit(self, declared: int | None) -> None:
        """Refuse an upload whose declared length (when known) would not fit above the floor."""
        self._declared = declared or 0
        self._check(self._declared)

    def watch(self, received: int) -> None:
        """Look again every CHECK_EVERY bytes received, counting what is still to come."""
        if received - self._checked_at >= CHECK_EVERY:
            self._checked_at = received
            self._check(max(0, self._declared - received))

    def _check(self, coming: int) -> None:
        if self._floor <= 0:
            return
        free = self._free_of(self._directory)
        if leaves_too_little(free, coming, self._floor):
            raise under_floor(free, coming, self._floor)
