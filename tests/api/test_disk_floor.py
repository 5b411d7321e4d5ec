"""The free-space floor an upload must leave: the pure check, and when an upload looks again."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.disk_floor import CHECK_EVERY, DiskFloor, free_bytes, leaves_too_little
from api.errors import ApiError

GIB = 1024**3


@pytest.mark.parametrize(
    ("free", "coming", "floor", "refused"),
    [
        (10 * GIB, 1 * GIB, 2 * GIB, False),
        (10 * GIB, 8 * GIB, 2 * GIB, False),  # exactly the floor left
        (10 * GIB, 8 * GIB + 1, 2 * GIB, True),
        (1 * GIB, 0, 2 * GIB, True),  # already under it: nothing more may come
        (0, 5 * GIB, 0, False),  # 0: no floor
    ],
)
def test_an_upload_is_refused_only_when_it_would_leave_less_than_the_floor(
    free: int, coming: int, floor: int, refused: bool
) -> None:
    assert leaves_too_little(free, coming, floor) is refused


class Disk:
    """A disk's free space, as the floor reads it, and how often it was read."""

    def __init__(self, free: int) -> None:
        self.free, self.reads = free, 0

    def __call__(self, directory: Path) -> int:
        self.reads += 1
        return self.free


def test_a_declared_length_that_would_not_fit_is_refused_before_a_byte_is_stored() -> None:
    floor = DiskFloor(Path("uploads"), 2 * GIB, Disk(3 * GIB))
    with pytest.raises(ApiError) as refused:
        floor.admit(GIB + 1)
    assert (refused.value.status, refused.value.code) == (507, "storage_full")
    assert refused.value.details == {
        "free_bytes": 3 * GIB,
        "min_free_bytes": 2 * GIB,
        "needed_bytes": GIB + 1,
    }
    assert refused.value.headers
    assert refused.value.headers["Retry-After"]
    DiskFloor(Path("uploads"), 2 * GIB, Disk(3 * GIB)).admit(GIB)


def test_a_streaming_upload_looks_again_every_few_mib_counting_what_is_still_to_come() -> None:
    disk = Disk(10 * GIB)
    floor = DiskFloor(Path("uploads"), 2 * GIB, disk)
    floor.admit(4 * GIB)
    floor.watch(CHECK_EVERY - 1)
    assert disk.reads == 1  # not on every chunk
    floor.watch(CHECK_EVERY)
    assert disk.reads == 2
    disk.free = 5 * GIB  # other uploads took the rest meanwhile
    with pytest.raises(ApiError, match="JOBCAST_JOB_MIN_FREE_DISK_BYTES"):
        floor.watch(2 * CHECK_EVERY)  # about 4 GiB still to come would leave 1 GiB


def test_an_upload_of_unknown_length_is_refused_once_the_disk_is_under_the_floor() -> None:
    disk = Disk(3 * GIB)
    floor = DiskFloor(Path("uploads"), 2 * GIB, disk)
    floor.admit(None)
    disk.free = 2 * GIB - 1
    with pytest.raises(ApiError):
        floor.watch(CHECK_EVERY)


def test_a_floor_of_zero_never_reads_the_disk() -> None:
    disk = Disk(0)
    floor = DiskFloor(Path("uploads"), 0, disk)
    floor.admit(GIB)
    floor.watch(10 * CHECK_EVERY)
    assert disk.reads == 0


def test_free_space_is_read_where_the_uploads_directory_will_be_made(tmp_path: Path) -> None:
    # Before the first upload makes it: read on the disk it will be made on, not an error.
    assert free_bytes(tmp_path / "data" / "uploads") > 0
