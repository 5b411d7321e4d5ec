"""Why a file job failed.

A stable code clients can switch on, and a message saying what to fix.
"""

from __future__ import annotations

import errno
import re


class FileJobError(Exception):
    """A failure caused by the input (or the params): fail the job with `code`, do not retry."""

    def __init__(self, code: str, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.column = code, message, column

    def as_error(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


#: What a table without a row is told, whether pyarrow or the count of rows found it out.
NO_ROWS = (
    "The file has no data rows (a header alone, or nothing): add rows under the header, or send "
    "`header: false` if its first line is data."
)


def no_rows(kind: str) -> FileJobError:
    """A table with no rows; the hint about a header only where there is one to give."""
    if kind == "parquet":
        return FileJobError("no_rows", "The Parquet file has no rows: its columns hold no values.")
    if kind == "jsonl":
        return FileJobError("no_rows", "The file holds no JSON objects, one per line.")
    return FileJobError("no_rows", NO_ROWS)


# pyarrow reports input problems as ArrowInvalid with a message; these map them to our codes
# and to what to fix. pyarrow's own text stays out of the message (the worker log has it).
_ARROW_PATTERNS: tuple[tuple[str, str, str], ...] = (
    # Not final: the runner scans every line's types and reads again (column_types.py).
    (
        r"changed from \w+ to \w+|Failed to convert JSON to",
        "column_type_changed",
        "A field's values change type along the file; a column must hold one kind of value.",
    ),
    # Not final: the runner reads again with short rows padded and long ones named (streams.py).
    (
        r"Expected \d+ columns?, got \d+",
        "uneven_rows",
        "Rows have different numbers of fields; give each row as many as the header has.",
    ),
    (
        r"invalid UTF8|Invalid UTF8",
        "invalid_encoding",
        "The text is not valid UTF-8; name the file's encoding in the params (`encoding`) or "
        "re-save it as UTF-8.",
    ),
    (r"Empty CSV file", "empty_file", "The file holds no data."),
    # The header has no line end, so there is nothing after it: a first line longer than a
    # block, the other reason pyarrow gives, is refused before reading (first_row.py).
    (r"Could not skip initial \d+ rows?", "no_rows", NO_ROWS),
    (
        r"JSON parse error|JSON conversion|Unexpected",
        "invalid_json",
        "A line is not valid JSON: each line must be one JSON object.",
    ),
)
_JSON_CHANGE = re.compile(r"Column\((/?[^)]*)\) changed from (\w+) to (\w+)")
_JSON_REPEATED = re.compile(r"Column\((/?[^)]*)\) was specified twice")
#: pyarrow's names of JSON kinds, as the scan of column_types.py names them.
_JSON_KINDS = {"string": "text", "boolean": "true/false"}


def underlying(exc: BaseException) -> BaseException | None:
    """The first error in `exc`'s chain (pyarrow's, say): for the log, never the owner. None
    when `exc` stands alone: its message, which the log says already, is all there is."""
    first = None
    for _ in range(8):  # bounded: a chain may be made to loop
        inner = exc.__cause__ or exc.__context__
        if inner is None:
            break
        first = exc = inner
    return first


def from_arrow_error(exc: Exception, kind: str) -> FileJobError:
    """Translate a pyarrow reading error into a FileJobError."""
    text = str(exc)
    if kind == "parquet":
        return FileJobError(
            "corrupt_parquet",
            "The Parquet file is corrupt or lies about its contents; write it again.",
        )
    if "straddl" in text:  # a row longer than a read block: too big a value, not bad JSON
        return FileJobError("memory_limit", _too_long(kind))
    changed = _JSON_CHANGE.search(text)
    if changed:
        return FileJobError("column_type_changed", _json_change(*changed.groups()))
    repeated = _JSON_REPEATED.search(text)
    if repeated:
        # Not final: the runner reads again, keeping a repeated key's last value (pandas').
        key = _json_name(repeated.group(1))
        return FileJobError("repeated_key", f"An object repeats the key {key!r}; give it once.")
    for pattern, code, message in _ARROW_PATTERNS:
        if re.search(pattern, text):
            return FileJobError(code, message)
    changed = re.search(r"In CSV column #(\d+): .*conversion error to (\w+)", text)
    if changed:
        # The type inferred from the first block does not hold further down: reread as text.
        return FileJobError(
            "column_type_changed",
            "A column's type changes along the file.",
            column=int(changed.group(1)),
        )
    return FileJobError(
        "unreadable_file", f"The {kind} file could not be read; check that it is well-formed."
    )


def listed(names: list[str], most: int = 20) -> str:
    """Column names for an error message, the first `most` of them."""
    shown = ", ".join(map(repr, names[:most]))
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def first_row_too_long(header: bool, sample_bytes: int) -> str:
    """What a CSV whose first row runs past the sample read to detect its format is told: the
    columns are counted from that row (and, with a header, named)."""
    start = f"The first line is longer than {sample_bytes // 1024} KiB"
    if header:
        return f"{start}: its column names are too long to read."
    return (
        f"{start}: too long to count the columns from, which `header: false` counts from the "
        "first row. Add a line of column names above it (and leave out `header: false`), or "
        "send the table as Parquet."
    )


def quote_spans_sample(line: int, column: int, sample_bytes: int) -> str:
    """What a CSV is told whose first row runs past the sample because a quote in it takes in
    the line ends after it: its first line may be a few bytes long ("The first line is longer"
    was said of a 9-byte one)."""
    return (
        f'The first row runs past the first {sample_bytes // 1024} KiB: a quote (") opened on '
        f"line {line}, column {column} does not close within them, so the lines after it are "
        "read as one value. The file has a stray quote, or is not a table (a Markdown or text "
        'file?). Remove the stray quote, or write a quote inside a quoted value twice ("").'
    )


def _too_long(kind: str) -> str:
    """What a row too long to read in one piece is told (pyarrow reads a block at a time, and
    a row must fit in one): the README's limits name a value's cap, JOBCAST_JOB_MAX_CELL_BYTES."""
    if kind == "jsonl":
        return (
            "A line is too long to read in one piece; split it into smaller objects, or send "
            "the table as Parquet."
        )
    return (
        "A row is too long to read in one piece: one of its values is likely larger than a "
        "value may take (JOBCAST_JOB_MAX_CELL_BYTES). Shorten or split such values."
    )


def _json_change(path: str, was: str, now: str) -> str:
    # pyarrow counts its row from 0 within a block: not a line of the file, so it is left out.
    if not path:
        return "A line is not a JSON object: each line must be one JSON object."
    name = _json_name(path)
    was, now = _JSON_KINDS.get(was, was), _JSON_KINDS.get(now, now)
    return (
        f"Column {name!r} changes from {was} to {now} along the file; a column must hold one "
        "kind of value."
    )


def _json_name(path: str) -> str:
    """A field as pyarrow's path names it (`/a/b`), the way a user writes it (`a.b`)."""
    return path.lstrip("/").replace("/", ".")


def over_budget(budget_mib: int, operation: str | None) -> str:
    """What to do about a job past its memory budget, by what most likely took the memory."""
    if operation == "aggregate":
        # The groups' partial results grow with the distinct keys (a million unique ids).
        cause = "to hold this aggregate's groups (a key with very many distinct values?)"
        advice = "group by fewer or coarser columns, or fewer metrics"
    else:
        cause = "to read this file (values that decode to far more than they store?)"
        advice = "split the file"
    return (
        f"The job needed more than its memory budget ({budget_mib} MiB) {cause}; {advice}, "
        "or ask for a larger JOBCAST_JOB_MEMORY_BUDGET."
    )


def lasting_storage_error(exc: Exception) -> dict[str, str] | None:
    """The job's error for a storage failure no retry mends (its upload gone, the disk full:
    a full disk was retried as a transient error, rewriting the partial file each time, and
    ended `transient_error`); None for one worth retrying."""
    if isinstance(exc, FileNotFoundError):
        return {"code": "upload_missing", "message": "The uploaded file is no longer stored."}
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return {
            "code": "storage_full",
            "message": "The server's disk is full: the job's output was removed. Try again "
            "later, or ask the operator to free space.",
        }
    return None
