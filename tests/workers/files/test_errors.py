"""pyarrow's reading errors become our codes, with what to fix and none of pyarrow's text."""

from __future__ import annotations

import pyarrow as pa
import pytest

from workers.files.errors import NO_ROWS, FileJobError, from_arrow_error, underlying

PYARROW_TEXTS = [
    "Could not skip initial 1 rows from CSV file, either file is too short or header is "
    "larger than block size",
    "CSV parse error: Expected 3 columns, got 2: 1,2",
    "CSV conversion error to utf8: invalid UTF8 data",
    "JSON parse error: Invalid value. in row 1",
    "straddling object straddles two block boundaries (try to increase block size?)",
    "JSON parse error: Column(/a/b) changed from number to string in row 0",
    "In CSV column #1: Row #5: CSV conversion error to int64: invalid value 'x'",
    "Something pyarrow never said before",
]

#: Bits of pyarrow's wording, none of which a message may hold.
PYARROW_WORDING = ("row 0", "row 1", "Row #", "Column(", "block size", "CSV ", "UTF8", "straddl")


@pytest.mark.parametrize("text", PYARROW_TEXTS)
def test_no_pyarrow_text_reaches_the_message(text: str) -> None:
    message = from_arrow_error(pa.ArrowInvalid(text), "csv").message
    assert not [fragment for fragment in PYARROW_WORDING if fragment in message]


def test_a_header_with_nothing_after_it_is_no_rows() -> None:
    error = from_arrow_error(pa.ArrowInvalid(PYARROW_TEXTS[0]), "csv")
    assert (error.code, error.message) == ("no_rows", NO_ROWS)


def test_a_json_type_change_names_the_column_in_the_direction_of_the_file() -> None:
    error = from_arrow_error(pa.ArrowInvalid(PYARROW_TEXTS[5]), "jsonl")
    assert error.code == "column_type_changed"
    assert error.message.startswith("Column 'a.b' changes from number to text along the file;")


@pytest.mark.parametrize(("kind", "start"), [("csv", "A row is"), ("jsonl", "A line is")])
def test_a_row_longer_than_a_block_is_memory_limit_whatever_the_format(
    kind: str, start: str
) -> None:
    # It was invalid_json for a CSV too: a 9 MB cell in a CSV was told to be bad JSON.
    error = from_arrow_error(pa.ArrowInvalid(PYARROW_TEXTS[4]), kind)
    assert error.code == "memory_limit"
    assert error.message.startswith(f"{start} too long to read in one piece")


def test_an_unknown_error_says_the_file_could_not_be_read() -> None:
    error = from_arrow_error(pa.ArrowInvalid(PYARROW_TEXTS[-1]), "csv")
    assert error.code == "unreadable_file"
    assert error.message.startswith("The csv file could not be read;")


def test_the_log_gets_pyarrows_own_error_under_ours() -> None:
    arrow = pa.ArrowInvalid(PYARROW_TEXTS[3])
    translated = from_arrow_error(arrow, "jsonl")
    translated.__cause__ = arrow
    shown = FileJobError("invalid_json", "Line 2 is not valid JSON.")
    shown.__context__ = translated  # raised while handling it
    assert underlying(shown) is arrow


def test_an_error_of_our_own_has_nothing_under_it_for_the_log() -> None:
    # The log line gave its message again as the "reader's error": FileJobError("…").
    assert underlying(FileJobError("unknown_column", "No column named 'nope'.")) is None
