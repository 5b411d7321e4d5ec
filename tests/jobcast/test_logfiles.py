"""The launcher's log files rotate by size and keep a few old ones."""

from __future__ import annotations

import os
from pathlib import Path

from jobcast.logfiles import RotatingLog, pump_into


def test_log_rotates_past_its_size_and_keeps_only_its_backups(tmp_path: Path) -> None:
    path = tmp_path / "worker.log"
    log = RotatingLog(path, max_bytes=100, backups=2)
    for n in range(10):
        log.write(f"line {n:02d} ".encode() * 5 + b"\n")  # 41 bytes: two fit in one file
    log.close()

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "worker.log",
        "worker.log.1",
        "worker.log.2",
    ]
    assert path.read_bytes().count(b"\n") == 2
    assert b"line 09" in path.read_bytes()
    assert b"line 07" in (tmp_path / "worker.log.1").read_bytes()
    assert all(p.stat().st_size <= 100 for p in tmp_path.iterdir())


def test_pumped_output_reaches_the_log_until_the_writer_closes(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    thread = pump_into(read_end, RotatingLog(tmp_path / "api.log"))
    os.write(write_end, b"ready\n")
    os.close(write_end)
    thread.join(timeout=5)
    assert (tmp_path / "api.log").read_bytes() == b"ready\n"
