"""A plain UTF-8 CSV parsed on two cores, in exactly the batches the streaming reader gives.

pyarrow's streaming reader (`readers._csv`) parses on one thread. Its block k is the stored
bytes up to (k + 1) * block_size, cut after the last complete row (the rest opens block k + 1;
the last block runs to the end), and every column's type is inferred from block 0 alone.
Profiles depend on those batches (means are merged and samples drawn batch by batch), so the
ranges cut here are those very blocks: range k ends after the last line end (LF or CR) before
(k + 1) * block_size. That is where the streaming reader cuts as long as every line end ends a
row (none is inside a quoted value, no line is empty), which each parsed range proves: from a
row start, it holds as many rows as line ends (CRLF is one; an empty line is no row) and its
last line does not end inside quotes. A block that ends between a CR and its LF ends after the
CR, as pyarrow's does: the LF opens the next range as an empty line, which is no row in either.

Range 0 is parsed as the streaming reader parses its first block (types inferred); the others
with those types, two at a time on worker threads. A range that fails its check or its parse
hands over to the streaming reader, which reads the file again and skips the batches already
given: whatever it makes of the rest (an error included) is what it would have made of it.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from workers.files.blank_lines import check_no_blank_value
from workers.files.file_format import FileFormat
from workers.files.sources import (
    READ_AHEAD_GRACE,
    READ_AHEAD_THREAD,
    BatchSource,
    ReadLimits,
    check_batch,
)

PARSE_THREADS = 2
#: Ranges being parsed, or parsed and waiting their turn, past the one consumed: both threads
#: busy and one ready. Bounds what is held (bytes and batches) to about the streaming reader's.
RANGES_AHEAD = 3
#: Files of fewer blocks are left to the streaming reader (and its one read-ahead thread).
MIN_BLOCKS = 4
#: Bytes looked back from a block's end for its last newline; a longer last row hands over.
ROW_SEARCH = 64 * 1024
_NEWLINE, _RETURN, _QUOTE = 0x0A, 0x0D, 0x22
#: What `_Ranges.next` returns past the last range.
_DONE: Any = object()

#: Opens the streaming reader's source over the same file, from its start.
Streaming = Callable[[], BatchSource]
#: The streaming reader's conversion options for a format and forced column types.
Convert = Callable[[FileFormat, dict[str, Any]], pa_csv.ConvertOptions]


def eligible(fmt: FileFormat, total: int, limits: ReadLimits) -> bool:
    """Raw UTF-8 CSV the streaming reader would take block by block, with a one-line header
    (or none), under a `sep=` line or not (a line too: rows still match lines)."""
    return (
        fmt.kind == "csv"
        and not fmt.gzip
        and fmt.encoding in (None, "utf-8")
        and not fmt.pad_rows
        and fmt.header_lines <= 1 + fmt.hint_lines
        and total >= MIN_BLOCKS * limits.block_size
    )


def open_parallel(
    path: Path,
    fmt: FileFormat,
    limits: ReadLimits,
    total: int,
    streaming: Streaming,
    convert: Convert,
) -> BatchSource | None:
    """A source parsing ranges on two threads; None when the first range fails its check or
    its parse (the streaming reader then reads the file, and reports what it finds)."""
    reader = _RangeReader(path, fmt, limits, total, convert)
    try:
        first = reader.first()
    except BaseException:
        reader.close()
        raise
    if first is None:
        reader.close()
        return None
    handover = _Handover(streaming)
    return BatchSource(
        first.schema,
        _batches(reader, first, handover, limits),
        handover.processed(reader.read_to),
        total,
        _Closer(reader, handover),
    )


class _RangeReader:
    """Cuts the file into the streaming reader's blocks and parses one block a call."""

    def __init__(
        self, path: Path, fmt: FileFormat, limits: ReadLimits, total: int, convert: Convert
    ) -> None:
        self.fmt, self.block, self.total, self.convert = fmt, limits.block_size, total, convert
        self.fd = os.open(path, os.O_RDONLY)
        self.limits = limits
        #: Where each range given ends, and the stored bytes read for the first k of them as the
        #: streaming reader counts them (`BlockLedger.ends`: its blocks' ends, not the rows').
        self.ends: list[int] = []
        self.read_to: list[int] = []
        self._typed: pa_csv.ConvertOptions | None = None

    def given(self, end: int) -> None:
        self.read_to.append(min(self.total, self.fmt.bom + (len(self.ends) + 1) * self.block))
        self.ends.append(end)

    def end_of(self, k: int) -> int | None:
        """Where range k ends: after the last line end before its block's end; the file's end
        for the last block. None when that row is longer than ROW_SEARCH."""
        limit = self.fmt.bom + (k + 1) * self.block
        if limit >= self.total:
            return self.total
        begin = max(self.fmt.bom, limit - ROW_SEARCH)
        window = os.pread(self.fd, limit - begin, begin)
        at = max(window.rfind(b"\n"), window.rfind(b"\r"))
        return None if at < 0 else begin + at + 1

    def first(self) -> pa.RecordBatch | None:
        """Range 0, its column types inferred as the streaming reader infers them."""
        end = self.end_of(0)
        if end is None:
            return None
        options = self.convert(self.fmt, self.limits.column_types)
        try:
            batch = self.parse(self.fmt.bom, end, options, self.fmt.header_lines)
        except pa.ArrowException:
            return None
        if batch is not None:
            types = dict(zip(batch.schema.names, batch.schema.types, strict=True))
            self._typed = self.convert(self.fmt, types)
            self.given(end)
        return batch

    def rest(self, begin: int, end: int) -> pa.RecordBatch | None:
        """A later range, with range 0's types; None when it fails its check. Its cells are
        checked here, off the thread that profiles (an error is raised in the range's turn)."""
        assert self._typed is not None
        batch = self.parse(begin, end, self._typed, 0)
        if batch is not None:
            check_batch(batch, self.limits)
        return batch

    def parse(
        self, begin: int, end: int, convert: pa_csv.ConvertOptions, skip: int
    ) -> pa.RecordBatch | None:
        data = os.pread(self.fd, end - begin, begin)
        final = end == self.total
        batch = _read_one(data, self.fmt, convert, skip)
        if batch is None or batch.num_rows != _rows_expected(data, final) - skip:
            return None
        # A range ending inside quotes is not cut at a row's end; the file's last, cut off
        # inside a quoted value: the streaming reader fails it as `unclosed_quote`.
        if _ends_in_quotes(_last_line(data), ord(self.fmt.delimiter)):
            return None
        check_no_blank_value(batch, self.fmt)  # raised in the range's turn, as a short row's
        return batch

    def close(self) -> None:
        os.close(self.fd)


def _read_one(
    data: bytes, fmt: FileFormat, convert: pa_csv.ConvertOptions, skip: int
) -> pa.RecordBatch | None:
    """`data` as one batch, parsed as the streaming reader parses a block; None if pyarrow
    made it into more than one."""
    reader = pa_csv.open_csv(
        pa.BufferReader(data),
        read_options=pa_csv.ReadOptions(
            block_size=len(data) + 1,
            column_names=list(fmt.names),
            skip_rows=skip,
            use_threads=False,
        ),
        parse_options=pa_csv.ParseOptions(delimiter=fmt.delimiter, newlines_in_values=True),
        convert_options=convert,
    )
    batches = list(iter(reader.read_next_batch, None))
    if len(batches) > 1:
        return None
    return batches[0] if batches else pa.RecordBatch.from_pylist([], schema=reader.schema)


def _rows_expected(data: bytes, final: bool) -> int:
    """Lines in `data`: a row each, when every line end (LF, CR or CRLF) ends a row (its last
    line, at the file's end, needs none). An LF opening `data` is no row: the rest of a CRLF
    the cut split, or an empty line."""
    # numpy, not bytes.count: it lets go of the GIL, which the profiling thread needs meanwhile.
    octets = np.frombuffer(data, np.uint8)
    lf = octets == _NEWLINE
    ends = int(np.count_nonzero(lf))
    if data.find(b"\r") >= 0:
        cr = octets == _RETURN
        ends += int(np.count_nonzero(cr)) - int(np.count_nonzero(cr[:-1] & lf[1:]))  # CRLF: one
    ends -= 1 if data[:1] == b"\n" else 0
    return ends + (1 if final and data and data[-1:] not in (b"\n", b"\r") else 0)


def _last_line(data: bytes) -> bytes:
    """The last line of `data` (which ends with a line end, unless it ends the file), without
    it."""
    end = len(data)
    while end and data[end - 1] in (_NEWLINE, _RETURN):
        end -= 1
    return data[max(data.rfind(b"\n", 0, end), data.rfind(b"\r", 0, end)) + 1 : end]


def _ends_in_quotes(line: bytes, delimiter: int) -> bool:
    """Whether pyarrow's CSV lexer, from a row's start, is inside a quoted value at the end of
    `line`: a quote opens one only at a field's start, `""` inside is a quote, and any other
    character after the closing quote goes on as plain field text."""
    if _QUOTE not in line:
        return False
    state = "start"
    for c in line:
        if state == "quoted":
            state = "quote" if c == _QUOTE else "quoted"
        elif state == "quote" and c == _QUOTE:
            state = "quoted"
        elif c == delimiter:
            state = "start"
        elif state == "start" and c == _QUOTE:
            state = "quoted"
        else:
            state = "field"
    return state == "quoted"


class _Handover:
    """The streaming reader, once a range could not be trusted: it goes on where we stop."""

    def __init__(self, streaming: Streaming) -> None:
        self.open = streaming
        self.source: BatchSource | None = None

    def resume(self, given: int) -> Generator[pa.RecordBatch, None, None]:
        """The streaming reader's batches after its first `given` (which are ours)."""
        self.source = source = self.open()
        for count in range(1, given + 1):
            next(source.batches, None)
            source.processed(count, 0)  # lets its ledger read on
        yield from source.batches

    def processed(self, ends: list[int]) -> Callable[[int, int], int]:
        def bytes_behind(batches: int, rows: int) -> int:
            if self.source is not None:
                return self.source.processed(batches, rows)
            return ends[min(batches, len(ends)) - 1] if ends and batches > 0 else 0

        return bytes_behind

    def close(self) -> None:
        if self.source is not None:
            self.source.close()


class _Closer:
    def __init__(self, reader: _RangeReader, handover: _Handover) -> None:
        self.reader, self.handover = reader, handover

    def close(self) -> None:
        self.handover.close()
        self.reader.close()


def _batches(
    reader: _RangeReader, first: pa.RecordBatch, handover: _Handover, limits: ReadLimits
) -> Generator[pa.RecordBatch, None, None]:
    ranges = _Ranges(reader)  # ranges 1, 2, ... are parsed while the first is profiled
    try:
        check_batch(first, limits)
        yield first
        while (batch := ranges.next()) is not _DONE:
            if batch is None:
                yield from handover.resume(len(reader.ends))
                return
            yield batch
    finally:
        ranges.stop()


class _Ranges:
    """Ranges 1, 2, ... parsed on the pool, RANGES_AHEAD at a time, handed out in order."""

    def __init__(self, reader: _RangeReader) -> None:
        self.reader, self.k, self.begin = reader, 1, reader.ends[0]
        self.pool = ThreadPoolExecutor(PARSE_THREADS, READ_AHEAD_THREAD, _name_thread)
        self.pending: deque[tuple[int, Future[pa.RecordBatch | None]]] = deque()
        self.cut_failed = False
        self._fill()

    def next(self) -> pa.RecordBatch | None:
        """The next range's batch; None when it cannot be trusted; _DONE past the last."""
        if not self.pending:
            return _DONE
        end, future = self.pending.popleft()
        batch = _result(future)
        if batch is not None:
            self.reader.given(end)
            self._fill()
        return batch

    def _fill(self) -> None:
        while len(self.pending) < RANGES_AHEAD and self.begin < self.reader.total:
            if self.cut_failed:
                return
            end = self.reader.end_of(self.k)
            if end is None or end <= self.begin:
                self.cut_failed = True  # a row longer than the search: hands over in its turn
                self.pending.append((self.begin, _failed()))
                return
            self.pending.append((end, self.pool.submit(self.reader.rest, self.begin, end)))
            self.begin, self.k = end, self.k + 1

    def stop(self) -> None:
        # A parse cannot be interrupted: an ended job waits a moment for the running ones, then
        # leaves them (`parse_left_running` tells the task to replace its process).
        self.pool.shutdown(wait=False, cancel_futures=True)
        _, running = wait([future for _, future in self.pending], READ_AHEAD_GRACE)
        if not running:
            self.pool.shutdown(wait=True)  # idle threads gone: none is taken for a stuck parse


def _result(future: Future[pa.RecordBatch | None]) -> pa.RecordBatch | None:
    try:
        return future.result()
    except pa.ArrowException:
        return None  # the streaming reader says what is wrong, as it would have


def _failed() -> Future[pa.RecordBatch | None]:
    future: Future[pa.RecordBatch | None] = Future()
    future.set_result(None)
    return future


def _name_thread() -> None:
    threading.current_thread().name = READ_AHEAD_THREAD
