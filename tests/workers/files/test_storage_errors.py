"""Which storage failures a file job retries and which end it at once."""

from __future__ import annotations

import errno

import pytest

from workers.files.errors import lasting_storage_error


@pytest.mark.parametrize("number", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_ends_the_job_as_storage_full_rather_than_being_retried(number: int) -> None:
    # It was retried as a transient error (the partial file rewritten each time) and ended
    # `transient_error`, which told the owner nothing of the disk.
    error = lasting_storage_error(OSError(number, "No space left on device"))
    assert error is not None
    assert error["code"] == "storage_full"
    assert "disk is full" in error["message"]


def test_a_missing_upload_ends_the_job_and_a_passing_fault_is_retried() -> None:
    missing = lasting_storage_error(FileNotFoundError(errno.ENOENT, "gone"))
    assert missing is not None
    assert missing["code"] == "upload_missing"
    assert lasting_storage_error(OSError(errno.EIO, "Input/output error")) is None
    assert lasting_storage_error(TimeoutError()) is None
