"""Byte streams between a stored file and pyarrow's readers: gzip with a cap, short rows padded,
a ledger of how far into the stored file each block pyarrow read ends, and a small file's whole
text held in one Arrow buffer."""

from __future__ import annotations

import csv
import gzip
import io
import threading
import zlib
from collections.abc import Sequence
from typing import Any, BinaryIO

import pyarrow as pa

from workers.files.blank_lines import blank_row
from workers.files.errors import FileJobError
from workers.files.quotes import TAIL_BYTES, ran_to_the_end, unclosed_in_header, unclosed_in_row

#: Rows re-written per refill of the padding stream.
PAD_ROWS_PER_CHUNK = 2000
#: Decompressed bytes any gzip upload may give before the ratio cap applies.
DECOMPRESSION_SLACK = 16 * 1024**2
#: Blocks a reader may fetch past the batches consumed: the batch in the read-ahead queue, the
#: one being parsed, and the next block (a row may straddle two), with one to spare.
READ_AHEAD_BLOCKS = 4
#: Seconds a read waits for the batches to catch up before it goes ahead anyway.
READ_AHEAD_WAIT = 2.0


class CappedDecompressor(io.RawIOBase):
    """Decompressed gzip bytes, failing once more than `cap` have come out, or more than `ratio`
    times the compressed bytes read so far (past DECOMPRESSION_SLACK): checked on every read, so
    a bomb is stopped after a few MiB of compressed input, long before its parse would end."""

    def __init__(self, raw: BinaryIO, cap: int, ratio: int) -> None:
        self._raw, self._gz = raw, gzip.GzipFile(fileobj=raw)
        self.cap, self.ratio, self.produced = cap, ratio, 0

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
                f"The file decompresses to more than {self.cap} bytes (the configured cap); "
                "upload a smaller file or split it.",
            )
        if self.produced > DECOMPRESSION_SLACK + self.ratio * self._raw.tell():
            raise FileJobError(
                "decompressed_too_large",
                f"The file decompresses to more than {self.ratio} times its size (a gzip bomb, "
                "or extremely repetitive data); upload it uncompressed or as Parquet.",
            )
        return n


class Rewritten(io.RawIOBase):
    """A stream rewritten a chunk at a time: `_refill` makes the next chunk (it may be empty
    before the end) and sets `_ended` once its source is done."""

    _pending = b""
    _ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._ended:
            self._pending = self._refill()
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _refill(self) -> bytes:
        raise NotImplementedError


class PaddedRows(Rewritten):
    """UTF-8 CSV rewritten row by row: a row with fewer fields than there are `names` gets empty
    (missing) ones, as pandas fills them with NaN; one with more fails, naming its line. Blank
    lines go, also those of only spaces and tabs, as pandas skips them. Slower than pyarrow
    alone, so used only once a short row was met or the sample shows a line of spaces.
    `header`: the first row names the columns (it is no row of data); `hint_lines`: lines before
    it (a `sep=;` line, `delimiter_hint`), passed through as they are for the reader to skip.
    Lines are named as they are in the file: the hint's counted."""

    def __init__(
        self,
        utf8: BinaryIO,
        delimiter: str,
        names: Sequence[str],
        header: bool,
        hint_lines: int = 0,
    ) -> None:
        self._text = io.TextIOWrapper(utf8, encoding="utf-8", newline="")
        self._hint_lines = hint_lines
        self._reader = csv.reader(self._lines(), delimiter=delimiter)
        self._out = io.StringIO()
        self._writer = csv.writer(self._out, delimiter=delimiter, lineterminator="\n")
        self._names, self._delimiter = names, delimiter
        #: The text's last line and last row: how the text ended. Rows are counted as pyarrow's
        #: reader counts them (no blank line, no header), so an unclosed quote is named alike.
        self._last_line, self._rows, self._header = "", 0, int(header)
        self._last_row: list[str] = []

    def _lines(self) -> Any:
        for line in self._text:
            self._last_line = line
            yield line

    def _refill(self) -> bytes:
        self._out.seek(0)
        self._out.truncate()
        written = self._pass_hint()
        try:
            while written < PAD_ROWS_PER_CHUNK:
                row = next(self._reader, None)
                if row is None:
                    break
                if blank_row(row, self._delimiter, self._last_line):
                    row = []  # written as an empty line, which pyarrow skips
                self._writer.writerow(self._fit(row))
                written += 1
                if row:  # a blank line is no row
                    self._last_row, self._rows = row, self._rows + 1
        except csv.Error as exc:
            line = self._reader.line_num
            raise FileJobError("unreadable_file", f"Line {line} is not valid CSV: {exc}") from exc
        if not written:
            self._ended = True
            self._check_closed()
        return self._out.getvalue().encode("utf-8")

    def _pass_hint(self) -> int:
        # Not a row: `sep=;` is two fields split on `;`, which would be fitted to the columns.
        lines, self._hint_lines = self._hint_lines, 0
        for _ in range(lines):
            next(self._reader, None)  # read through the reader, which counts the file's lines
            self._out.write(self._last_line.rstrip("\r\n") + "\n")
        return lines

    def _check_closed(self) -> None:
        # `csv` (not strict) ends an unclosed quoted value at the end of the text, as pyarrow.
        row = self._rows - self._header
        for name, value in zip(self._names, self._last_row, strict=False):
            if ran_to_the_end(value, self._last_line, self._delimiter):
                raise unclosed_in_row(row, name) if row else unclosed_in_header()

    def _fit(self, row: list[str]) -> list[str]:
        width = len(self._names)
        if len(row) > width:
            # Without a header the names were counted from the first row, which is data.
            first = "the header" if self._header else "the first row"
            raise FileJobError(
                "ragged_rows",
                f"Line {self._reader.line_num} has {len(row)} fields; {first} has {width}"
                + (_UNNAMED_FIRST if self._first_data_row() and len(row) == width + 1 else "."),
            )
        return row + [""] * (width - len(row)) if row else row

    def _first_data_row(self) -> bool:
        return bool(self._header) and self._rows == 1  # the header counted, no row yet


#: What a first row of data one field longer than the header is told: pandas reads that first
#: field as the index and shifts every name one column left, a profile wrong without a word
#: (R's `write.table` writes its row names so, without a name in the header).
_UNNAMED_FIRST = (
    ": the header seems to lack a name for the first column (row names or an index written "
    "without one, which pandas would read as the index, not as a column). Add a name for it at "
    "the start of the header line, or remove that first field from every row."
)


class BlockLedger(io.RawIOBase):
    """Passes reads through, noting after each one how far into the stored file `raw` it
    reached, and reading at most `ahead` blocks past the batches consumed.

    pyarrow's streaming readers turn each block they read into one record batch, but a
    background thread reads up to 32 blocks ahead of the parse, held as bytes outside Arrow's
    memory pool (128 MiB at 4 MiB blocks, more than all the job's other data). The ledger says
    how many stored bytes the first `k` batches came from, which is what progress should count
    (processed, not fetched), and holds that thread back until the batches catch up.
    """

    def __init__(self, inner: BinaryIO, raw: BinaryIO, ahead: int = READ_AHEAD_BLOCKS) -> None:
        self._inner, self._raw, self._ahead = inner, raw, ahead
        self.ends: list[int] = []
        #: The last bytes read (`quotes.TAIL_BYTES`): how the text ends, once it is all read.
        self.tail = b""
        self._consumed = 0
        self._caught_up = threading.Condition()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with self._caught_up:
            # Bounded: were a block ever to give no batch, the reader would otherwise wait for
            # a batch that needs this very block; reading on late only costs memory.
            self._caught_up.wait_for(lambda: self.closed or self._may_read(), READ_AHEAD_WAIT)
        if self.closed:
            return 0
        # Filled whole (the inner streams may return less), so one read is one block.
        view, n = memoryview(buffer), 0
        while n < len(view):
            got = self._inner.readinto(view[n:])  # type: ignore[attr-defined]
            if not got:
                break
            n += got
        if n:
            self.ends.append(self._raw.tell())
            self.tail = (self.tail + bytes(view[max(0, n - TAIL_BYTES) : n]))[-TAIL_BYTES:]
        return n

    def _may_read(self) -> bool:
        return len(self.ends) < self._consumed + self._ahead

    def processed(self, batches: int) -> int:
        """Stored bytes behind the first `batches` batches (consumed: the reader may go on)."""
        with self._caught_up:
            self._consumed = max(self._consumed, batches)
            self._caught_up.notify_all()
        if not self.ends or batches <= 0:
            return 0
        return self.ends[min(batches, len(self.ends)) - 1]

    def close(self) -> None:
        """Close the stored file too, and release a reader thread waiting to read."""
        super().close()
        self._raw.close()
        with self._caught_up:
            self._caught_up.notify_all()


class WholeText:
    """A small file's whole text, read at once into an Arrow buffer for pyarrow to parse, telling
    what a `BlockLedger` over the same text tells (one block, ending where the file does).

    pyarrow reads a Python file object from its IO thread, each read a hand-over of the GIL and
    a trip through `readinto`; from its own buffer it reads none. A 3-row CSV's open and read
    cost about 0.1 ms less CPU (a tenth of its profile). Only for text no larger than its file
    allows (decompressing or padding rows can make it many times that: those are streamed).
    """

    def __init__(self, text: BinaryIO, raw: BinaryIO) -> None:
        data = text.read()
        self.buffer = pa.py_buffer(data)
        self.tail = data[-TAIL_BYTES:]
        self._end = raw.tell() if data else 0
        self._raw = raw

    def processed(self, batches: int) -> int:
        """Stored bytes behind the first `batches` batches: all of them, once one is."""
        return self._end if batches > 0 else 0

    def close(self) -> None:
        self._raw.close()
