"""Which format a stored file is in, decided from its bytes (never from a client-given name).

Text is read as pandas' `read_csv` would by default: the first line names the columns (unless
the params say `header: false`), names are made unique the way pandas does it (`column_names`).
The sample's rows and delimiter are `sample_rows`', what its values say `sample_values`', and
the checks on its first row `first_row`'s: this module decides from them.
"""

from __future__ import annotations

import dataclasses
import gzip
import re
import zipfile
import zlib
from pathlib import Path

from jobcast.jobs.params import JobParams
from workers.files.blank_lines import has_blank_text_line
from workers.files.column_names import column_names
from workers.files.delimiter_hint import read_hint
from workers.files.encodings import UTF16_BOMS, DecodedHead, decode_head
from workers.files.errors import FileJobError
from workers.files.file_format import SNIFF_BYTES, FileFormat
from workers.files.first_row import (
    check_first_row_closed,
    first_row_cut,
    first_row_cut_failure,
    refuse_too_wide,
)
from workers.files.not_tables import (
    PARQUET_MAGIC,
    binary_failure,
    markup_failure,
    other_compression,
)
from workers.files.sample_rows import refuse_comma_separated, sample_rows, sniff_delimiter
from workers.files.sample_values import hex_columns, sniff_decimal

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
#: Compound File Binary (OLE2): the container of legacy `.xls` workbooks.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def detect_format(
    path: Path, params: JobParams | None = None, max_columns: int | None = None
) -> FileFormat:
    """The format of `path`; FileJobError for an empty, binary or undecodable file, and for a
    table wider than `max_columns` (told from its first line, before anything is parsed)."""
    params = params or JobParams()
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    if not head:
        raise FileJobError("empty_file", "The file is empty.")
    if head.startswith(PARQUET_MAGIC):
        return FileFormat("parquet")
    if head.startswith(OLE2_MAGIC) or (head.startswith(ZIP_MAGIC) and _is_spreadsheet(path)):
        return FileFormat("spreadsheet", header=params.header)
    if head.startswith(ZIP_MAGIC):
        raise FileJobError(
            "unrecognized_format",
            "The file is a zip archive but not a spreadsheet (.xlsx, .xlsm, .ods): unzip it.",
        )
    if head.startswith(GZIP_MAGIC):
        return _text_format(_gunzip_head(path), True, params, max_columns)
    compressed = other_compression(head)
    if compressed is not None:
        raise compressed
    return _text_format(head, False, params, max_columns)


def _is_spreadsheet(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" in names:
                return True
            return "mimetype" in names and archive.read("mimetype").startswith(
                b"application/vnd.oasis.opendocument.spreadsheet"
            )
    except (zipfile.BadZipFile, OSError, KeyError):
        return False


def _gunzip_head(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as f:
            return f.read(SNIFF_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise FileJobError("unrecognized_format", f"The gzip stream is corrupt: {exc}") from exc


def _text_format(
    head: bytes, gzip_: bool, params: JobParams, max_columns: int | None
) -> FileFormat:
    if not head.strip():
        raise FileJobError("empty_file", "The file holds no data.")
    wide = head.startswith(UTF16_BOMS) or (params.encoding or "").lower().startswith("utf-16")
    if b"\x00" in head and not wide:
        raise binary_failure(head, gzip_)
    decoded = decode_head(head, params.encoding)
    text = decoded.text
    if "\x00" in text:
        raise binary_failure(b"", gzip_)
    if not text.strip():
        raise FileJobError("empty_file", "The file holds no data.")
    markup = markup_failure(text)
    if markup is not None:
        raise markup
    if _json_start(text):
        return FileFormat("jsonl", gzip=gzip_, encoding=decoded.encoding, bom=decoded.bom)
    return _csv_format(text, decoded, gzip_, len(head) >= SNIFF_BYTES, params, max_columns)


def _csv_format(
    text: str,
    decoded: DecodedHead,
    gzip_: bool,
    truncated: bool,
    params: JobParams,
    max_columns: int | None,
) -> FileFormat:
    hint = read_hint(text, params.decimal)
    text = text[len(hint.line) :]
    # A decimal comma cannot be the delimiter too (pandas refuses `sep` equal to `decimal`).
    skip = "," if params.decimal == "," else ""
    delimiter = hint.delimiter or sniff_delimiter(text, truncated, skip)
    rows, header_lines = sample_rows(text, delimiter, truncated)
    # A `sep=` line names the delimiter in so many words: commas are then the data's own.
    if params.decimal == "," and hint.delimiter is None and all(len(row) == 1 for row in rows):
        refuse_comma_separated(text, truncated)
    if len(rows) == 1 and not truncated:
        check_first_row_closed(rows[0], text, delimiter, params.header)
    cut = first_row_cut(text, delimiter, truncated)
    refuse_too_wide(rows, cut, max_columns)
    found = FileFormat(
        "csv", gzip_, delimiter, params.header, decoded.encoding, decoded.bom, hint_lines=hint.lines
    )
    if cut:
        raise first_row_cut_failure(text, found, hint)
    decimal = params.decimal or sniff_decimal(rows[1:] if params.header else rows, delimiter)
    names = column_names(rows[0], params.header)
    return dataclasses.replace(
        found,
        decimal=decimal,
        names=names,
        header_lines=(header_lines if params.header else 0) + hint.lines,
        # pyarrow reads a line of spaces as a row: the rows are rewritten to skip it.
        pad_rows=has_blank_text_line(text, delimiter),
        text_columns=hex_columns(names, rows[1:] if params.header else rows),
    )


#: How a file of JSON starts: an object (JSON Lines), or an array of arrays or objects (a JSON
#: document, which JSON Lines' reader then refuses as such), which no CSV header does.
_JSON_START = re.compile(r"\s*(\{|\[\s*[\[{])")


def _json_start(text: str) -> bool:
    """Whether the text is JSON: `[[[…` read as a CSV was told its column names were too long,
    not that it was nested too deep or not JSON Lines."""
    return _JSON_START.match(text) is not None
