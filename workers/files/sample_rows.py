"""A CSV sample's first rows, the delimiter that splits them, and the refusal of a file that
only `,` splits when `,` is the decimal mark."""

from __future__ import annotations

import csv
import io
import itertools

from workers.files.blank_lines import blank_row
from workers.files.errors import FileJobError

#: Delimiters tried for delimited text, in order of preference on a tie.
DELIMITERS = (",", "\t", ";", "|")


def sample_rows(text: str, delimiter: str, truncated: bool) -> tuple[list[list[str]], int]:
    """The sample's first rows, parsed as CSV (quotes, embedded newlines, any line ending), a
    cut-off one dropped (the first is kept, cut or not: `first_row.first_row_cut` tells); and
    how many physical lines the first row spans."""
    # newline="" keeps bare CR line endings (classic Mac, Excel for Mac) as line breaks.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, first_lines = [], 1
    try:
        for row in itertools.islice(reader, 51):
            if not blank_row(row, delimiter):
                rows.append(row)
                first_lines = reader.line_num if len(rows) == 1 else first_lines
    except csv.Error as exc:
        if not rows:
            raise FileJobError("unreadable_file", f"The CSV could not be parsed: {exc}") from exc
    return (rows[:-1] if truncated and len(rows) > 1 else rows), first_lines


def sniff_delimiter(text: str, truncated: bool = False, skip: str = "") -> str:
    """The delimiter that splits every row into the same (largest) number of fields, other
    than `skip`."""
    candidates = [d for d in DELIMITERS if d != skip]
    best, best_fields = candidates[0], 1
    for delimiter in candidates:
        try:
            widths = {len(row) for row in sample_rows(text, delimiter, truncated)[0]}
        except (csv.Error, FileJobError):
            continue
        fields = min(widths) if widths else 1
        if fields > best_fields and (len(widths) == 1 or best_fields == 1):
            best, best_fields = delimiter, fields
    return best


def refuse_comma_separated(text: str, truncated: bool) -> None:
    """A file `,` splits into the same columns on every line, read with a decimal comma: no other
    delimiter splits it, so it would be one column of whole lines, `city,amount` and all (a file
    of one column whose numbers are written `1,5` splits unevenly, and is read as asked)."""
    try:
        widths = {len(row) for row in sample_rows(text, ",", truncated)[0]}
    except (csv.Error, FileJobError):
        return
    if len(widths) == 1 and widths.pop() > 1:
        raise FileJobError(
            "unreadable_file",
            'This file is separated by commas, but it was sent with decimal ","; a comma cannot '
            'be both, so it would be read as one column of whole lines. Send it with decimal "." '
            "(or leave decimal out to detect it), or export it separated by semicolons or tabs.",
        )
