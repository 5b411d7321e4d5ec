"""Which format a stored file is in, decided from its bytes (never from a client-given name).

Text is read as pandas' `read_csv` would by default: the first line names the columns (unless
the params say `header: false`), names are made unique the way pandas does it.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from jobcast.jobs.params import JobParams
from workers.files.blank_lines import blank_row, has_blank_text_line
from workers.files.delimiter_hint import DelimiterHint, read_hint
from workers.files.encodings import UTF16_BOMS, DecodedHead, decode_head
from workers.files.errors import FileJobError, first_row_too_long, quote_spans_sample
from workers.files.not_tables import (
    PARQUET_MAGIC,
    binary_failure,
    markup_failure,
    other_compression,
)
from workers.files.quotes import (
    opened_on_lines,
    ran_to_the_end,
    unclosed_in_header,
    unclosed_in_row,
)

#: Bytes looked at to decide the format, the delimiter and the header.
SNIFF_BYTES = 64 * 1024
#: Delimiters tried for delimited text, in order of preference on a tie.
DELIMITERS = (",", "\t", ";", "|")
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
#: Compound File Binary (OLE2): the container of legacy `.xls` workbooks.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: pandas' default `na_values` (`pandas._libs.parsers.STR_NA_VALUES`; a test keeps them equal).
PANDAS_NA_VALUES = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
_HEX = re.compile(r"^\s*[+-]?0[xX][0-9a-fA-F]+\s*$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_DECIMAL_POINT = re.compile(r"^[+-]?\d*\.\d+$")
#: A number a decimal-comma export writes with a thousands dot (`1.234`, `12.000`): beside
#: decimal commas it is no decimal point. `0.125` is no thousands grouping.
_THOUSANDS_DOTS = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+$")


@dataclass(frozen=True)
class FileFormat:
    kind: str  # "csv", "jsonl", "parquet" or "spreadsheet"
    gzip: bool = False
    delimiter: str = ","
    header: bool = True
    encoding: str | None = None  # text only: the codec name, "utf-8" needs no transcoding
    bom: int = 0  # bytes of byte-order mark to skip (utf-8); other codecs consume their own
    decimal: str = "."
    names: tuple[str, ...] = ()  # csv: column names, as pandas makes them unique
    #: csv: physical lines before the first row of data, skipped by the reader: the delimiter
    #: hint's (`hint_lines`) and those the header row spans.
    header_lines: int = 1
    hint_lines: int = 0  # csv: 1 when a first line `sep=;` names the delimiter (delimiter_hint)
    pad_rows: bool = False  # csv: rows re-checked in Python, short ones padded with nulls
    #: csv: columns read as text whatever they look like: pyarrow would parse `0x1F` as an
    #: integer where pandas keeps the text.
    text_columns: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        base = "tsv" if self.kind == "csv" and self.delimiter == "\t" else self.kind
        return base + (".gz" if self.gzip else "")


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
    rows, header_lines = _rows(text, delimiter, truncated)
    # A `sep=` line names the delimiter in so many words: commas are then the data's own.
    if params.decimal == "," and hint.delimiter is None and all(len(row) == 1 for row in rows):
        _refuse_comma_separated(text, truncated)
    if len(rows) == 1 and not truncated:
        _check_closed(rows[0], text, delimiter, params.header)
    cut = first_row_cut(text, delimiter, truncated)
    _check_width(rows, cut, max_columns)
    if cut:
        fmt = FileFormat(
            "csv",
            gzip_,
            delimiter,
            params.header,
            decoded.encoding,
            decoded.bom,
            hint_lines=hint.lines,
        )
        raise _first_row_cut(text, fmt, hint)
    decimal = params.decimal or sniff_decimal(rows[1:] if params.header else rows, delimiter)
    names = column_names(rows[0], params.header)
    return FileFormat(
        "csv",
        gzip_,
        delimiter,
        params.header,
        decoded.encoding,
        decoded.bom,
        decimal,
        names,
        (header_lines if params.header else 0) + hint.lines,
        hint.lines,
        # pyarrow reads a line of spaces as a row: the rows are rewritten to skip it.
        pad_rows=has_blank_text_line(text, delimiter),
        text_columns=_hex_columns(names, rows[1:] if params.header else rows),
    )


#: How a file of JSON starts: an object (JSON Lines), or an array of arrays or objects (a JSON
#: document, which JSON Lines' reader then refuses as such), which no CSV header does.
_JSON_START = re.compile(r"\s*(\{|\[\s*[\[{])")


def _json_start(text: str) -> bool:
    """Whether the text is JSON: `[[[…` read as a CSV was told its column names were too long,
    not that it was nested too deep or not JSON Lines."""
    return _JSON_START.match(text) is not None


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


def _check_width(rows: list[list[str]], cut: bool, max_columns: int | None) -> None:
    """Refuse a table too wide for the job before pyarrow parses a block of it: a parser holds
    a builder per column, so 200,000 columns take gigabytes whatever the file's size."""
    width = len(rows[0]) if rows else 0
    if max_columns is not None and width > max_columns:
        more = "at least " if cut else ""
        raise FileJobError(
            "too_many_columns",
            f"The table has {more}{width} columns; at most {max_columns} are accepted.",
        )


def _first_row_cut(text: str, fmt: FileFormat, hint: DelimiterHint) -> FileJobError:
    """What a first row that the sample `text` (under its `hint`) ends inside fails as: too
    long, or, when the sample ends inside one of its quoted values, QuoteOpenPastSample (reading
    on tells)."""
    before = text.rstrip('"')  # a run of quotes the sample cut: a pair, or a close, unknown
    try:
        row = _rows(before, fmt.delimiter, True)[0][0]
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


def _check_closed(row: list[str], text: str, delimiter: str, header: bool) -> None:
    """`unclosed_quote` for a first row (the header, most often) that took the whole file into
    one value: it read as a header alone (`no_rows`), which said nothing of the quote."""
    for column, value in enumerate(row):
        if ran_to_the_end(value, text, delimiter):
            raise unclosed_in_header() if header else unclosed_in_row(1, str(column))


def _rows(text: str, delimiter: str, truncated: bool) -> tuple[list[list[str]], int]:
    """The sample's first rows, parsed as CSV (quotes, embedded newlines, any line ending), a
    cut-off one dropped (the first is kept, cut or not: `first_row_cut` tells); and how many
    physical lines the first row spans."""
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
            widths = {len(row) for row in _rows(text, delimiter, truncated)[0]}
        except (csv.Error, FileJobError):
            continue
        fields = min(widths) if widths else 1
        if fields > best_fields and (len(widths) == 1 or best_fields == 1):
            best, best_fields = delimiter, fields
    return best


def _refuse_comma_separated(text: str, truncated: bool) -> None:
    """A file `,` splits into the same columns on every line, read with a decimal comma: no other
    delimiter splits it, so it would be one column of whole lines, `city,amount` and all (a file
    of one column whose numbers are written `1,5` splits unevenly, and is read as asked)."""
    try:
        widths = {len(row) for row in _rows(text, ",", truncated)[0]}
    except (csv.Error, FileJobError):
        return
    if len(widths) == 1 and widths.pop() > 1:
        raise FileJobError(
            "unreadable_file",
            'This file is separated by commas, but it was sent with decimal ","; a comma cannot '
            'be both, so it would be read as one column of whole lines. Send it with decimal "." '
            "(or leave decimal out to detect it), or export it separated by semicolons or tabs.",
        )


def sniff_decimal(rows: list[list[str]], delimiter: str) -> str:
    """ "," when `;`-separated numbers are written `1,5` (spreadsheets in most of Europe), and
    none `1.5` other than as thousands (`1.234`)."""
    if delimiter != ";":
        return "."
    cells = [cell.strip() for row in rows for cell in row]
    # `1.234` beside `2,50` is a thousand (German exports): read as a decimal point it made
    # the decimal "." and so numbers 1000 times too small, and `2,50` text.
    points = (c for c in cells if _DECIMAL_POINT.match(c) and not _THOUSANDS_DOTS.match(c))
    if any(_DECIMAL_COMMA.match(c) for c in cells) and not any(points):
        return ","
    return "."


def _hex_columns(names: tuple[str, ...], rows: list[list[str]]) -> tuple[str, ...]:
    return tuple(
        name for i, name in enumerate(names) if any(_HEX.match(r[i]) for r in rows if i < len(r))
    )


def column_names(first_row: list[str], header: bool) -> tuple[str, ...]:
    """pandas' names: `0, 1, ...` without a header; else `Unnamed: i` for a blank one and
    `a, a.1, a.2` for repeats."""
    if not header:
        return tuple(str(i) for i in range(len(first_row)))
    raw = [name.lstrip("\ufeff") or f"Unnamed: {i}" for i, name in enumerate(first_row)]
    seen: dict[str, int] = {}
    names: list[str] = []
    taken = set(raw)
    for name in raw:
        if name not in seen:
            seen[name] = 0
            names.append(name)
            continue
        candidate = name
        while candidate in taken:
            seen[name] += 1
            candidate = f"{name}.{seen[name]}"
        taken.add(candidate)
        names.append(candidate)
    return tuple(names)
