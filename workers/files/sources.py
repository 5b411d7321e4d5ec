"""What every reader hands the runner: record batches, read one ahead, and their progress."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from workers.files.errors import FileJobError

#: Batches parsed ahead of the one being processed.
PREFETCH_DEPTH = 1
#: Seconds an ended job waits for the read-ahead thread to finish the block it is parsing; a
#: parse still running after that is left behind, and the task replaces its process.
READ_AHEAD_GRACE = 1.0
READ_AHEAD_THREAD = "jobcast-read-ahead"
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
    #: Decompressed bytes a gzip stream may give per compressed byte read (past a first slack).
    max_decompression_ratio: int = 200
    #: Largest value (one cell, decoded) in bytes.
    max_cell_bytes: int = 256 * 1024
    #: Deepest nesting of objects and arrays in JSON Lines.
    max_json_depth: int = 64
    #: Parquet: the columns pandas stored as the DataFrame's index are read as columns (a convert
    #: keeps them, as `to_csv` writes the index; an aggregate groups by them, as `groupby` takes
    #: an index level's name). A profile leaves them out, as `describe()`.
    keep_index: bool = False
    #: JSON Lines: lines written again in Python, a repeated key's last value kept, as pandas
    #: reads them (pyarrow refuses them; `repeated_keys.py`).
    last_value_kept: bool = False


class Closeable(Protocol):
    def close(self) -> None: ...


@dataclass
class BatchSource:
    """Record batches of one file, and how many stored bytes the consumed batches came from."""

    schema: pa.Schema
    batches: Generator[pa.RecordBatch, None, None]
    #: (batches consumed, rows consumed) -> stored bytes they were read from.
    processed: Callable[[int, int], int]
    total_bytes: int
    #: The stored file (or what reads it): closed when the source is.
    raw: Closeable

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

    thread = threading.Thread(target=produce, name=READ_AHEAD_THREAD, daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        # A parse cannot be interrupted: the job (ended by a soft time limit, say) does not
        # wait for a pathological block; `parse_left_running` tells the task to recycle.
        stop.set()
        thread.join(READ_AHEAD_GRACE)


def in_turn(read_next: Callable[[], pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Batches from `read_next` (until StopIteration), each parsed when asked for: for a file
    within one block, which the reader parsed whole when it opened it, so a read-ahead thread
    would have nothing to overlap (and cost a tiny job more than its profile). `iter` ends at
    the StopIteration `read_next` raises; it never returns None."""
    return iter(read_next, None)


def parse_left_running() -> bool:
    """A read-ahead thread of an ended job is still parsing (the process should be replaced)."""
    return any(t.name == READ_AHEAD_THREAD and t.is_alive() for t in threading.enumerate())


def check_width(schema: pa.Schema, limits: ReadLimits) -> None:
    if len(schema) > limits.max_columns:
        raise FileJobError(
            "too_many_columns",
            f"The table has {len(schema)} columns; at most {limits.max_columns} are accepted.",
        )


def check_batch(batch: pa.RecordBatch, limits: ReadLimits, json: bool = False) -> None:
    """A text reader's checks of each batch it hands on (`check_cells`, `check_past_int64`);
    `json` for JSON Lines."""
    check_cells(batch, limits)
    check_past_int64(batch, limits, json)


def check_cells(batch: pa.RecordBatch, limits: ReadLimits) -> None:
    """memory_limit for a text or binary value larger than the cap (its column named)."""
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if is_variable_width(column.type) and len(column):
            check_cell_size(name, pc.max(pc.binary_length(column)).as_py() or 0, limits)


def check_past_int64(batch: pa.RecordBatch, limits: ReadLimits, json: bool = False) -> None:
    """column_type_changed for a column pyarrow inferred as float64 that holds a finite number
    past int64's range. pyarrow infers float64 for integer text too long for int64, so IDs such
    as 12345678901234567890 would lose their last digits (a converted file too, and groups
    would merge); pandas keeps them uint64, or text past that. The runner's scan of the text
    then types the column as pandas does. A column typed by that scan is not checked again.

    In JSON Lines an infinity is such a number too: JSON writes none, and pyarrow reads an
    integer of over 308 digits as one (a job on it succeeded with every statistic null)."""
    for index, (name, column) in enumerate(zip(batch.schema.names, batch.columns, strict=True)):
        if not pa.types.is_float64(column.type) or name in limits.column_types:
            continue
        if _within_int64(column):
            continue
        # In a CSV, `inf` is written as such, no integer's stand-in.
        read = column if json else pc.filter(column, pc.is_finite(column))
        if not _within_int64(read):
            raise FileJobError(
                "column_type_changed",
                f"Column {name!r} holds numbers past int64's range.",
                column=index,
            )


def _within_int64(column: pa.Array) -> bool:
    low, high = (value.as_py() for value in pc.min_max(column).values())
    return low is None or (low >= -(2**63) and high < 2**63)


def check_cell_size(name: str, size: int, limits: ReadLimits) -> None:
    if size > limits.max_cell_bytes:
        raise FileJobError(
            "memory_limit",
            f"A value in column {name!r} takes {_mib(size)} once decoded; a value may take at "
            f"most {_mib(limits.max_cell_bytes)}. Shorten or split such values.",
        )


def is_variable_width(type_: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(type_)
        or pa.types.is_large_string(type_)
        or pa.types.is_binary(type_)
        or pa.types.is_large_binary(type_)
    )


def _mib(size: int) -> str:
    return f"{size / 2**20:.2f} MiB" if size >= 2**20 else f"{size / 1024:.0f} KiB"
