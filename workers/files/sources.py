"""What every reader hands the runner: record batches, read one ahead, and their progress."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import pyarrow as pa

from workers.files.errors import FileJobError

#: Batches parsed ahead of the one being processed.
PREFETCH_DEPTH = 1
_END = object()


@dataclass(frozen=True)
class ReadLimits:
    block_size: int
    max_decompressed: int
    max_columns: int
    #: Columns forced to a type (decided from all their values once the first block's broke).
    column_types: dict[str, Any] = field(default_factory=dict)
    #: Bytes a spreadsheet may take in memory (a sheet is read whole).
    sheet_budget: int = 64 << 20
    sheet: str | int | None = None


@dataclass
class BatchSource:
    """Record batches of one file, and how many stored bytes the consumed batches came from."""

    schema: pa.Schema
    batches: Generator[pa.RecordBatch, None, None]
    #: (batches consumed, rows consumed) -> stored bytes they were read from.
    processed: Callable[[int, int], int]
    total_bytes: int
    raw: BinaryIO

    def close(self) -> None:
        """Stop reading (ends the read-ahead thread) and close the file, started or not."""
        self.batches.close()
        self.raw.close()


def prefetch(read_next: Callable[[], pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Batches from `read_next` (until StopIteration), parsed one ahead in a thread.

    Parsing releases the GIL, so the next batch is parsed while this one is profiled; the
    queue holds at most PREFETCH_DEPTH batches, which bounds the memory this costs.
    """
    ready: queue.Queue[Any] = queue.Queue(maxsize=PREFETCH_DEPTH)
    stop = threading.Event()

    def produce() -> None:
        while not stop.is_set():
            try:
                item: Any = read_next()
            except StopIteration:
                item = _END
            except BaseException as exc:  # handed to the consumer, raised there
                item = exc
            while not stop.is_set():
                try:
                    ready.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if item is _END or isinstance(item, BaseException):
                return

    thread = threading.Thread(target=produce, name="jobcast-read-ahead", daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def check_width(schema: pa.Schema, limits: ReadLimits) -> None:
    if len(schema) > limits.max_columns:
        raise FileJobError(
            "too_many_columns",
            f"The table has {len(schema)} columns; at most {limits.max_columns} are accepted.",
        )
