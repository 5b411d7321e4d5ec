"""Which lines pandas skips as blank: empty ones, and (its C parser's `skip_blank_lines`) those
of only spaces and tabs, unless a tab is the delimiter. pyarrow skips only empty ones, and read
a line of spaces as a row whose first value is the spaces: a column of numbers became text, or
the row a short one of missing values."""

from __future__ import annotations

#: What a line pandas skips may hold besides its line ending.
_BLANK = " \t"


def blank_row(row: list[str], delimiter: str, line: str | None = None) -> bool:
    """Whether a row `csv` parsed is a line pandas skips: no field, or one of only spaces and
    tabs; when its physical `line` is known, written without quotes (`"  "` is a value)."""
    if not row:
        return True
    return (
        len(row) == 1
        and not row[0].strip(_BLANK.replace(delimiter, ""))
        and (line is None or line.strip("\r\n") == row[0])
    )


def has_blank_text_line(text: str, delimiter: str) -> bool:
    """Whether a line of the sample `text` holds only spaces and tabs (not a delimiter), which
    pyarrow would read as a row."""
    blank = _BLANK.replace(delimiter, "")
    return any(line and not line.strip(blank) for line in text.splitlines())
