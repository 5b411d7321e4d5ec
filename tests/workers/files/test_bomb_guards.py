"""The guards against file bombs, on their own: nesting and width of JSON Lines, the gzip ratio
cap, Parquet batches cut by decoded size, the watchdog, and a parse the job does not wait for."""

from __future__ import annotations

import gzip
import io
import json
import multiprocessing
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobcast.jobs.params import JobParams
from tests.workers.files.support import SMALL_BATCHES
from workers.files.errors import FileJobError
from workers.files.nesting import NestingGuard
from workers.files.parquet import open_parquet
from workers.files.runner import Hooks, run_job
from workers.files.sources import ReadLimits, parse_left_running, prefetch
from workers.files.streams import DECOMPRESSION_SLACK, CappedDecompressor
from workers.files.watchdog import MemoryWatchdog, resident_bytes

LIMITS = SMALL_BATCHES


def guarded(data: bytes, depth: int = 64, columns: int = 2000, read: int = 7) -> None:
    guard = NestingGuard(io.BytesIO(data), depth, columns)
    while guard.read(read):  # small reads: lines and escapes cut between them
        pass


def test_json_deeper_than_the_cap_fails_and_the_cap_itself_passes() -> None:
    line = json.dumps({"a": [[[{"b": [1]}]]]}).encode() + b"\n"  # 6 deep
    guarded(line * 3, depth=6)
    with pytest.raises(FileJobError, match="more than 5 deep") as failure:
        guarded(line * 3, depth=5)
    assert failure.value.code == "invalid_json"


def test_brackets_colons_and_escaped_quotes_inside_strings_do_not_count() -> None:
    tricky = {"s": '[[[[{{{{ \\" ": : : ]]', "t": "\\", "u": '"[[[["'}
    guarded((json.dumps(tricky) + "\n").encode() * 50, depth=1, columns=3)


def test_a_line_with_more_keys_than_columns_allowed_fails_before_parsing() -> None:
    wide = json.dumps({f"k{i}": {"x": 1, "y": 2} for i in range(60)}).encode() + b"\n"
    guarded(wide, columns=60)
    with pytest.raises(FileJobError) as failure:
        guarded(wide, columns=59)
    assert failure.value.code == "too_many_columns"


def test_each_line_starts_from_depth_zero() -> None:
    guarded(b'{"a": [[1]]}\n' * 1000, depth=3, read=4096)


def _drain(stream: io.RawIOBase) -> None:
    while stream.read(1 << 20):
        pass


def test_gzip_bomb_fails_at_the_ratio_long_before_the_absolute_cap() -> None:
    bomb = gzip.compress(b"1,2\n" * (12 << 20), 9)  # 48 MiB from about 50 KB
    stream = CappedDecompressor(io.BytesIO(bomb), 1 << 40, 200)
    with pytest.raises(FileJobError, match="200 times its size") as failure:
        _drain(stream)
    assert failure.value.code == "decompressed_too_large"
    assert stream.produced < DECOMPRESSION_SLACK + 200 * len(bomb) + (1 << 20)


def test_ordinary_compressible_text_passes_the_ratio_cap() -> None:
    rng = np.random.default_rng(0)
    text = "\n".join(f"{i},{v:.3f},city{i % 40}" for i, v in enumerate(rng.normal(size=400_000)))
    stream = CappedDecompressor(io.BytesIO(gzip.compress(text.encode())), 1 << 40, 20)
    assert len(stream.read()) == len(text)


def test_csv_whose_first_line_outgrows_the_sample_fails_as_too_many_columns(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(["a"] * 100_000) + "\n" + ",".join(["1"] * 100_000) + "\n")
    with pytest.raises(FileJobError, match="at least 32769 columns") as failure:
        run_job(path, JobParams(), LIMITS, Hooks(), tmp_path / "out")
    assert failure.value.code == "too_many_columns"


def test_parquet_text_batches_are_cut_by_their_decoded_size(tmp_path: Path) -> None:
    path = tmp_path / "plain.parquet"
    values = [f"{i:04d}" + "x" * 20_000 for i in range(400)]  # 8 MB decoded, tiny on disk
    pq.write_table(pa.table({"v": values, "n": range(400)}), path, use_dictionary=False)
    limits = ReadLimits(block_size=100_000, max_decompressed=1 << 30, max_columns=10)
    source = open_parquet(path.open("rb"), limits, path.stat().st_size)
    batches = list(source.batches)
    assert sum(b.num_rows for b in batches) == 400
    assert max(b.nbytes for b in batches) <= 100_000 + 20_100
    assert [v for b in batches for v in b.column("v").to_pylist()] == values


def test_a_parquet_value_over_the_cell_cap_fails_before_it_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "bomb.parquet"
    column = pa.DictionaryArray.from_arrays(pa.array([0] * 1500, pa.int32()), ["x" * 300_000])
    pq.write_table(pa.table({"v": column}), path, compression="zstd")
    with pytest.raises(FileJobError, match="column 'v' takes 293 KiB") as failure:
        run_job(path, JobParams(), LIMITS, Hooks(), tmp_path / "out")
    assert failure.value.code == "memory_limit"


def test_an_ended_job_does_not_wait_for_a_parse_in_the_read_ahead_thread() -> None:
    release, calls = threading.Event(), iter(range(2))
    batch = pa.record_batch({"x": [1]})

    def parse() -> pa.RecordBatch:
        if next(calls):  # the second block never finishes, until released
            release.wait(30)
            raise StopIteration
        return batch

    batches = prefetch(parse)
    assert next(batches) is batch
    time.sleep(0.1)  # the thread is now inside the second parse
    began = time.monotonic()
    batches.close()  # what ending the job does (soft time limit, cancel, failure)
    assert time.monotonic() - began < 2
    assert parse_left_running()  # so the task replaces its process
    release.set()
    deadline = time.monotonic() + 5
    while parse_left_running() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not parse_left_running()


def _allocate_under_watch(limit: int, report: Path) -> None:
    with MemoryWatchdog(limit, lambda rss: report.write_text(str(rss))):
        hoard = [np.ones(16 << 20, dtype=np.uint8) for _ in range(64)]  # 1 GiB, touched
        del hoard


def test_the_watchdog_reports_the_breach_and_kills_its_process(tmp_path: Path) -> None:
    limit, report = resident_bytes() + (128 << 20), tmp_path / "breach"
    child = multiprocessing.get_context("fork").Process(
        target=_allocate_under_watch, args=(limit, report)
    )
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    assert limit < int(report.read_text()) < limit + (256 << 20)


def _allocate_after_watch(limit: int, report: Path) -> None:
    for _ in range(20):  # job after job
        with MemoryWatchdog(limit, lambda rss: report.write_text(str(rss))):
            pass
    hoard = [np.ones(16 << 20, dtype=np.uint8) for _ in range(16)]  # 256 MiB, outside any job
    time.sleep(0.1)  # twenty samples' time
    del hoard
    watchers = [t for t in threading.enumerate() if t.name == "jobcast-memory"]
    report.write_text(f"threads {len(watchers)}")


def test_one_watchdog_thread_serves_job_after_job_and_judges_none_once_ended(
    tmp_path: Path,
) -> None:
    limit, report = resident_bytes() + (128 << 20), tmp_path / "breach"
    child = multiprocessing.get_context("fork").Process(
        target=_allocate_after_watch, args=(limit, report)
    )
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert report.read_text() == "threads 1"
