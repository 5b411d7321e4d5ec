"""A CSV whose last quoted value is never closed: the readers take the rest of the file into it.

pandas fails on such a file ("EOF inside string"); pyarrow's reader, and Python's `csv` module
that pads short rows, instead take everything from the opening quote to the end of the text as
one value, and the rows after it are gone without a word. Once a file is read, its last row
tells: a value that holds a line end or the delimiter (an unquoted value cannot) and that the
text ends with, quotes written twice as they are inside quotes, ran to the end unclosed. A closed
value is followed by its closing quote (and at most a line end), which such a value, its quotes
in pairs, cannot end with. A value holding neither (a file cut off inside a quoted value, with no
last line end) ran unclosed when the text ends with it right after its opening quote.
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa

from workers.files.errors import FileJobError

#: Decoded bytes kept from the end of the text: enough to tell, however long the value.
TAIL_BYTES = 64 * 1024
#: Bytes read at a time when reading on for a quote's close (`closes`).
SCAN_CHUNK = 1 << 20
#: A line end as the CSV readers take one (`newline=""`: a bare CR too, as old Macs wrote).
_LINE_END = re.compile(r"\r\n|\r|\n")


def ran_to_the_end(value: str, tail: str, delimiter: str) -> bool:
    """Whether `value`, the last row's, ran unclosed to the end of the text, which ends with
    `tail` (any part of its end: the last line, or the last `TAIL_BYTES`)."""
    raw = value.replace('"', '""')
    if "\n" not in value and "\r" not in value and delimiter not in value:
        # An unquoted value also ends where the text ends (the file has no last line end); an
        # unclosed one starts with its quote, after a delimiter or a line end (a file cut off
        # inside a quoted value, as a broken download is).
        opened = '"' + raw
        if len(tail) <= len(opened) or not tail.endswith(opened):
            return False
        return tail[-len(opened) - 1] in (delimiter, "\n", "\r")
    return tail.endswith(raw[-len(tail) :]) if tail else False


def opened_on_lines(text: str, value: str) -> tuple[int, int] | None:
    """The line and column (from 1) where the quoted `value`, which `text` ends inside
    (`ran_to_the_end`), opened, if it takes in line ends; None for a value on one line."""
    if "\n" not in value and "\r" not in value:
        return None
    start = len(text) - len(value.replace('"', '""')) - 1
    if start < 0 or text[start] != '"':
        return None  # not quoted where `ran_to_the_end` found it: say nothing of where
    ends = list(_LINE_END.finditer(text, 0, start))
    return len(ends) + 1, start - (ends[-1].end() if ends else 0) + 1


def closes(stream: Any, start: int) -> bool:
    """Whether a quoted value open `start` bytes into the UTF-8 `stream` is ever closed: by a
    run of an odd number of quotes (`""` is a quote inside the value), the run's last quote
    closing it. Read a chunk at a time to that close or the end, runs counted whole."""
    while start > 0 and (skipped := stream.read(min(start, SCAN_CHUNK))):
        start -= len(skipped)
    odd = b""  # a chunk's last run of quotes may go on in the next: its parity carried over
    while chunk := stream.read(SCAN_CHUNK):
        text = odd + chunk
        body = text.rstrip(b'"')
        odd = b'"' * ((len(text) - len(body)) % 2)
        if b'"' in body.replace(b'""', b""):
            return True
    return bool(odd)


def unclosed_in_row(row: int, column: str) -> FileJobError:
    """`unclosed_quote` for the value of `column` in `row`, counted as every reader can count
    it: rows of data from 1, the header and blank lines not counted (pyarrow's reader counts
    rows, not the file's lines, which a quoted value or a blank line makes differ)."""
    return _unclosed(f"Row {row}: the value of column {column!r}")


def unclosed_in_header() -> FileJobError:
    """`unclosed_quote` for a value of the header, whose columns have no names yet."""
    return _unclosed("The header (the first row): a value")


def _unclosed(where: str) -> FileJobError:
    return FileJobError(
        "unclosed_quote",
        f"{where} opens a quote that is never closed, so the rest of the file would be that one "
        'value. Close the quote (a quote inside a quoted value is written twice: "").',
    )


def check_closed(last: pa.RecordBatch, rows_before: int, tail: bytes, delimiter: str) -> None:
    """`unclosed_quote` if the last row of `last` (the file's last batch, after `rows_before`
    rows) has a value that ran unclosed to the end of the text, whose last bytes are `tail`."""
    text = tail.decode("utf-8", errors="ignore")  # a character cut at its start is no matter
    row = last.num_rows - 1
    for name, column in zip(last.schema.names, last.columns, strict=True):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            value = column[row].as_py()
            if value and ran_to_the_end(value, text, delimiter):
                raise unclosed_in_row(rows_before + last.num_rows, name)
