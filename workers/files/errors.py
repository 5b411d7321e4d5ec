"""Why a file job failed.

A stable code clients can switch on, and a message saying what to fix.
"""

from __future__ import annotations

import re


class FileJobError(Exception):
    """A failure caused by the input (or the params): fail the job with `code`, do not retry."""

    def __init__(self, code: str, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.column = code, message, column

    def as_error(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


# pyarrow reports input problems as ArrowInvalid with a message; these map them to our codes.
_ARROW_PATTERNS: tuple[tuple[str, str, str], ...] = (
    # Not final: the runner scans every line's types and reads again (column_types.py).
    (
        r"changed from \w+ to \w+|Failed to convert JSON to",
        "column_type_changed",
        "A field's type changes along the file",
    ),
    # Not final: the runner reads again with short rows padded and long ones named (streams.py).
    (r"Expected \d+ columns?, got \d+", "uneven_rows", "Rows have different numbers of fields"),
    (r"invalid UTF8|Invalid UTF8", "invalid_encoding", "The text is not valid UTF-8"),
    (r"Empty CSV file", "empty_file", "The file holds no data"),
    (r"JSON parse error|JSON conversion|straddling|Unexpected", "invalid_json", "Invalid JSON"),
)


def from_arrow_error(exc: Exception, kind: str) -> FileJobError:
    """Translate a pyarrow reading error into a FileJobError."""
    text = str(exc)
    if kind == "parquet":
        return FileJobError(
            "corrupt_parquet", f"The Parquet file is corrupt or lies about its contents: {text}"
        )
    for pattern, code, summary in _ARROW_PATTERNS:
        if re.search(pattern, text):
            return FileJobError(code, f"{summary}: {_first_line(text)}")
    changed = re.search(r"In CSV column #(\d+): .*conversion error to (\w+)", text)
    if changed:
        # The type inferred from the first block does not hold further down: reread as text.
        return FileJobError("column_type_changed", _first_line(text), column=int(changed.group(1)))
    return FileJobError(
        "unreadable_file", f"The {kind} file could not be read: {_first_line(text)}"
    )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else "no detail"
