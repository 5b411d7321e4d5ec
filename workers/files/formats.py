"""Which format a stored file is in, decided from its bytes (never from a client-given name)."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import zlib
from dataclasses import dataclass
from pathlib import Path

from workers.files.errors import FileJobError

#: Bytes looked at to decide the format, the delimiter and the header.
SNIFF_BYTES = 64 * 1024
#: Delimiters tried for delimited text, in order of preference on a tie.
DELIMITERS = (",", "\t", ";", "|")
PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class FileFormat:
    kind: str  # "csv", "jsonl" or "parquet"
    gzip: bool = False
    delimiter: str = ","
    header: bool = True

    @property
    def name(self) -> str:
        base = "tsv" if self.kind == "csv" and self.delimiter == "\t" else self.kind
        return base + (".gz" if self.gzip else "")


def detect_format(path: Path) -> FileFormat:
    """The format of `path`; FileJobError for an empty, binary or non-UTF-8 file."""
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    if not head:
        raise FileJobError("empty_file", "The file is empty.")
    if head.startswith(PARQUET_MAGIC):
        return FileFormat("parquet")
    if head.startswith(GZIP_MAGIC):
        return _text_format(_gunzip_head(path), gzip_=True)
    return _text_format(head, gzip_=False)


def _gunzip_head(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as f:
            return f.read(SNIFF_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise FileJobError("unrecognized_format", f"The gzip stream is corrupt: {exc}") from exc


def _text_format(head: bytes, gzip_: bool) -> FileFormat:
    if not head.strip():
        raise FileJobError("empty_file", "The file holds no data.")
    if b"\x00" in head:
        raise FileJobError(
            "unrecognized_format",
            "The file is binary, not CSV, TSV, JSON Lines or Parquet (it contains NUL bytes).",
        )
    text = _decode_utf8(head)
    if text.lstrip().startswith("{"):
        return FileFormat("jsonl", gzip=gzip_)
    truncated = len(head) >= SNIFF_BYTES
    delimiter = sniff_delimiter(text, truncated)
    rows = _rows(text, delimiter, truncated)
    return FileFormat("csv", gzip=gzip_, delimiter=delimiter, header=sniff_header(rows))


def _decode_utf8(head: bytes) -> str:
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sample's end is not an error.
        if exc.start >= len(head) - 3:
            return head[: exc.start].decode("utf-8")
        raise FileJobError(
            "invalid_encoding",
            f"The file is not UTF-8 text (invalid byte at offset {exc.start}); re-save it as UTF-8.",
        ) from exc


def _rows(text: str, delimiter: str, truncated: bool) -> list[list[str]]:
    """The sample's first rows, parsed as CSV (quotes, embedded newlines), a cut-off one dropped."""
    rows = list(itertools.islice(csv.reader(io.StringIO(text), delimiter=delimiter), 51))
    rows = [row for row in rows if row]
    return rows[:-1] if truncated and len(rows) > 1 else rows


def sniff_delimiter(text: str, truncated: bool = False) -> str:
    """The delimiter that splits every row into the same (largest) number of fields."""
    best, best_fields = ",", 1
    for delimiter in DELIMITERS:
        try:
            widths = {len(row) for row in _rows(text, delimiter, truncated)}
        except csv.Error:
            continue
        fields = min(widths) if widths else 1
        if fields > best_fields and (len(widths) == 1 or best_fields == 1):
            best, best_fields = delimiter, fields
    return best


def sniff_header(rows: list[list[str]]) -> bool:
    """Whether the first row names the columns: it does unless it looks like data (numbers)."""
    if len(rows) < 2:
        return True
    return not any(_is_number(cell) for cell in rows[0])


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
