"""Which lines pandas skips as blank: empty ones, and (its C parser's `skip_blank_lines`) those
of only spaces and tabs, unless a tab is the delimiter. pyarrow skips only empty ones, and read
a line of spaces as a row whose first value is the spaces: a column of numbers became text, or
the row a short one of missing values."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from workers.files.errors import FileJobError
from workers.files.file_format import FileFormat

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


def check_no_blank_value(batch: pa.RecordBatch, fmt: FileFormat) -> None:
    """FileJobError `blank_line` (not final: the runner reads again with the rows rewritten,
    which skips such lines) when a one-column CSV read as pyarrow parses it holds a value of
    only spaces and tabs. The sample had no such line, or the rows would be rewritten already;
    further down, pyarrow reads one as a value (in a wider table it is a short row, which asks
    for the rewrite itself). A quoted value of spaces passes here too: the rewrite keeps it."""
    if fmt.kind != "csv" or fmt.pad_rows or batch.num_columns != 1:
        return
    values = batch.column(0)
    if not pa.types.is_string(values.type) or values.null_count == len(values):
        return
    # A regex over every value cost a quarter of a one-column file's profile: the values of
    # only ASCII whitespace (few, if any) are found first, and only they are matched exactly.
    spaces = values.filter(pc.ascii_is_space(values))
    blank = "^[" + _BLANK.replace(fmt.delimiter, "") + "]+$"
    if len(spaces) and pc.any(pc.match_substring_regex(spaces, blank)).as_py():
        raise FileJobError(
            "blank_line", "A line of only spaces or tabs was read as a value; it is skipped."
        )
