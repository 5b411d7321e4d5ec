"""Stream a stored file as Arrow record batches in bounded memory.

CSV/TSV use pyarrow's streaming CSV reader, JSON Lines its streaming JSON reader, Parquet is read
row group by row group. Gzip input is decompressed through a reader that counts the decompressed
bytes and stops at the cap (a gzip bomb fails instead of filling memory or disk).
"""

from __future__ import annotations

import gzip
import io
import queue
import threading
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from workers.files.errors import FileJobError, from_arrow_error
from workers.files.formats import FileFormat

#: Batches parsed ahead of the one being processed.
PREFETCH_DEPTH = 1
_END = object()


@dataclass(frozen=True)
class ReadLimits:
    block_size: int
    max_decompressed: int
    max_columns: int
    #: Columns forced to a type (a column whose inferred type broke later in the file).
    column_types: dict[str, Any] = field(default_factory=dict)


@dataclass
class BatchSource:
    """Record batches of one file, and how far into the stored bytes the reader is."""

    schema: pa.Schema
    batches: Generator[pa.RecordBatch, None, None]
    position: Callable[[], int]
    total_bytes: int
    raw: BinaryIO

    def close(self) -> None:
        """Stop reading (ends the read-ahead thread) and close the file, started or not."""
        self.batches.close()
        self.raw.close()


class CappedDecompressor(io.RawIOBase):
    """Decompressed gzip bytes, failing once more than `cap` have come out."""

    def __init__(self, raw: BinaryIO, cap: int) -> None:
        self._gz = gzip.GzipFile(fileobj=raw)
        self.cap, self.produced = cap, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            n = self._gz.readinto(buffer)
        except (OSError, EOFError, zlib.error) as exc:
            raise FileJobError("unreadable_file", f"The gzip stream is corrupt: {exc}") from exc
        self.produced += n
        if self.produced > self.cap:
            raise FileJobError(
                "decompressed_too_large",
                f"The file decompresses to more than {self.cap} bytes (the configured cap).",
            )
        return n


def open_batches(path: Path, fmt: FileFormat, limits: ReadLimits) -> BatchSource:
    """A BatchSource over `path`; FileJobError for input pyarrow cannot read."""
    raw = path.open("rb")
    total = path.stat().st_size
    try:
        if fmt.kind == "parquet":
            return _parquet(raw, limits, total)
        stream: Any = CappedDecompressor(raw, limits.max_decompressed) if fmt.gzip else raw
        reader = _csv(stream, fmt, limits) if fmt.kind == "csv" else _jsonl(stream, limits)
        _check_width(reader.schema, limits)
    except pa.ArrowInvalid as exc:
        raw.close()
        raise from_arrow_error(exc, fmt.kind) from exc
    except BaseException:
        raw.close()
        raise
    return BatchSource(reader.schema, _closing(reader, raw, fmt.kind), raw.tell, total, raw)


def _csv(stream: Any, fmt: FileFormat, limits: ReadLimits) -> Any:
    return pa_csv.open_csv(
        stream,
        read_options=pa_csv.ReadOptions(
            block_size=limits.block_size,
            autogenerate_column_names=not fmt.header,
            use_threads=False,
        ),
        parse_options=pa_csv.ParseOptions(delimiter=fmt.delimiter, newlines_in_values=True),
        # Empty strings are missing values, as in pandas.
        convert_options=pa_csv.ConvertOptions(
            strings_can_be_null=True, column_types=limits.column_types
        ),
    )


def _jsonl(stream: Any, limits: ReadLimits) -> Any:
    return pa_json.open_json(stream, read_options=pa_json.ReadOptions(block_size=limits.block_size))


def _closing(reader: Any, raw: BinaryIO, kind: str) -> Generator[pa.RecordBatch, None, None]:
    try:
        yield from prefetch(reader.read_next_batch)
    except pa.ArrowInvalid as exc:
        raise from_arrow_error(exc, kind) from exc
    finally:
        raw.close()


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


def _parquet(raw: BinaryIO, limits: ReadLimits, total: int) -> BatchSource:
    try:
        parquet = pq.ParquetFile(raw)
    except (pa.ArrowException, OSError) as exc:
        raise from_arrow_error(exc, "parquet") from exc
    schema = parquet.schema_arrow
    _check_width(schema, limits)
    meta = parquet.metadata
    rows_per_batch = max(1024, limits.block_size // _row_bytes(meta))
    done = [0]

    def position() -> int:
        return int(total * done[0] // max(1, meta.num_rows))

    def batches() -> Generator[pa.RecordBatch, None, None]:
        try:
            for batch in parquet.iter_batches(batch_size=rows_per_batch):
                done[0] += batch.num_rows
                yield batch
        except (pa.ArrowException, OSError) as exc:
            raise from_arrow_error(exc, "parquet") from exc
        finally:
            raw.close()
        if done[0] != meta.num_rows:
            raise FileJobError(
                "corrupt_parquet",
                f"The Parquet footer promises {meta.num_rows} rows but the file holds {done[0]}.",
            )

    return BatchSource(schema, batches(), position, total, raw)


def _row_bytes(meta: Any) -> int:
    if not meta.num_row_groups:
        return 1
    group = meta.row_group(0)
    return max(1, int(group.total_byte_size) // max(1, int(group.num_rows)))


def _check_width(schema: pa.Schema, limits: ReadLimits) -> None:
    if len(schema) > limits.max_columns:
        raise FileJobError(
            "too_many_columns",
            f"The table has {len(schema)} columns; at most {limits.max_columns} are accepted.",
        )
