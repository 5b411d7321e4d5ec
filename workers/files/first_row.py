"""Checks on a CSV sample's first row (the header, most often) before pyarrow parses a block:
how wide it is, whether the sample ends inside it, and whether a quote in it never closes."""

from __future__ import annotations

import csv
import io
import itertools

from workers.files.blank_lines import blank_row
from workers.files.delimiter_hint import DelimiterHint
from workers.files.errors import FileJobError, first_row_too_long, quote_spans_sample
from workers.files.file_format import SNIFF_BYTES, FileFormat
from workers.files.quotes import (
    opened_on_lines,
    ran_to_the_end,
    unclosed_in_header,
    unclosed_in_row,
)
from workers.files.sample_rows import sample_rows


def first_row_cut(text: str, delimiter: str, truncated: bool) -> bool:
    """Whether the sample ends inside its first row (a header line past the sample), rather
    than in a later one: a long value in the first data row is no long header."""
    if not truncated:
        return False
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # Blank lines are no rows (pandas and pyarrow skip them): a blank line under a 9-byte
    # header was taken for the sample ending inside it, "The first line is longer than 64 KiB".
    rows = (row for row in reader if not blank_row(row, delimiter))
    try:
        return sum(1 for _ in itertools.islice(rows, 2)) < 2
    except csv.Error:
        return True


def refuse_too_wide(rows: list[list[str]], cut: bool, max_columns: int | None) -> None:
    """Refuse a table too wide for the job before pyarrow parses a block of it: a parser holds
    a builder per column, so 200,000 columns take gigabytes whatever the file's size."""
    width = len(rows[0]) if rows else 0
    if max_columns is not None and width > max_columns:
        more = "at least " if cut else ""
        raise FileJobError(
            "too_many_columns",
            f"The table has {more}{width} columns; at most {max_columns} are accepted.",
        )


def first_row_cut_failure(text: str, fmt: FileFormat, hint: DelimiterHint) -> FileJobError:
    """What a first row that the sample `text` (under its `hint`) ends inside fails as: too
    long, or, when the sample ends inside one of its quoted values, QuoteOpenPastSample (reading
    on tells)."""
    before = text.rstrip('"')  # a run of quotes the sample cut: a pair, or a close, unknown
    try:
        row = sample_rows(before, fmt.delimiter, True)[0][0]
    except (FileJobError, IndexError):
        row = []
    if not row or not ran_to_the_end(row[-1], before, fmt.delimiter):
        return FileJobError("unreadable_file", first_row_too_long(fmt.header, SNIFF_BYTES))
    unclosed = unclosed_in_header() if fmt.header else unclosed_in_row(1, str(len(row) - 1))
    # Lines and bytes counted from the file's start, as the user and `text_stream` count them.
    whole = hint.line + before
    opened = opened_on_lines(whole, row[-1])
    too_long = (
        quote_spans_sample(*opened, SNIFF_BYTES)
        if opened
        else first_row_too_long(fmt.header, SNIFF_BYTES)
    )
    return QuoteOpenPastSample(fmt, len(whole.encode("utf-8")), unclosed, too_long)


class QuoteOpenPastSample(FileJobError):
    """A first row longer than the sample, which ends inside a quoted value of it: too long a
    first row (`too_long` says why) if the quote closes further down, else `unclosed`, as a
    short file's first row fails. `start`: the sample's bytes in `fmt`'s text as UTF-8
    (`readers.text_stream`), where the value goes on."""

    def __init__(self, fmt: FileFormat, start: int, unclosed: FileJobError, too_long: str) -> None:
        super().__init__("unreadable_file", too_long)
        self.fmt, self.start, self.unclosed = fmt, start, unclosed


def check_first_row_closed(row: list[str], text: str, delimiter: str, header: bool) -> None:
    """`unclosed_quote` for a first row (the header, most often) that took the whole file into
    one value: it read as a header alone (`no_rows`), which said nothing of the quote."""
    for column, value in enumerate(row):
        if ran_to_the_end(value, text, delimiter):
            raise unclosed_in_header() if header else unclosed_in_row(1, str(column))
