"""Batches are parsed one ahead in a thread, but not for a file its first block holds whole."""

from __future__ import annotations

import threading
from pathlib import Path

from jobcast.jobs.params import JobParams
from tests.workers.files.support import SMALL_BATCHES
from workers.files.formats import detect_format
from workers.files.readers import open_batches
from workers.files.sources import READ_AHEAD_THREAD

LIMITS = SMALL_BATCHES


def read_ahead_while_reading(path: Path) -> tuple[bool, int]:
    """(whether a read-ahead thread ran while the first batch was in hand, rows read)."""
    fmt = detect_format(path, JobParams(), LIMITS.max_columns)
    source = open_batches(path, fmt, LIMITS.read_limits({}))
    reading_ahead, rows = False, 0
    try:
        for count, batch in enumerate(source.batches, 1):
            if count == 1:
                reading_ahead = any(t.name == READ_AHEAD_THREAD for t in threading.enumerate())
            rows += batch.num_rows
            source.processed(count, rows)  # as the runner does: the reader may go on
    finally:
        source.close()
    return reading_ahead, rows


def test_a_file_within_one_block_is_read_without_a_read_ahead_thread(tmp_path: Path) -> None:
    path = tmp_path / "tiny.csv"
    path.write_text("a,b,c\n1,x,2.5\n2,y,3.5\n3,z,4.5\n")
    assert read_ahead_while_reading(path) == (False, 3)


def test_a_file_of_several_blocks_is_read_ahead(tmp_path: Path) -> None:
    path = tmp_path / "larger.csv"
    path.write_text("a,b\n" + "".join(f"{i},value {i}\n" for i in range(40_000)))
    assert path.stat().st_size > 4 * (64 << 10)
    assert read_ahead_while_reading(path) == (True, 40_000)
