"""Stream a stored file as Arrow record batches in bounded memory.

CSV/TSV use pyarrow's streaming CSV reader, JSON Lines its streaming JSON reader, Parquet is read
row group by row group (`parquet.py`), spreadsheets sheet by sheet (`spreadsheets.py`). Text is
decompressed (gzip, with a cap: a bomb fails instead of filling memory), transcoded to UTF-8 and,
once a short row was met, re-written with its missing fields (`streams.py`, `encodings.py`).
"""

from __future__ import annotations

from collections.abc import Generator
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json

from jobcast.jobs.params import JobParams
from workers.files import parallel_csv
from workers.files.blank_lines import check_no_blank_value
from workers.files.encodings import Utf8Transcoder
from workers.files.errors import FileJobError, from_arrow_error
from workers.files.file_format import FileFormat
from workers.files.first_row import QuoteOpenPastSample
from workers.files.formats import detect_format
from workers.files.na_values import PANDAS_NA_VALUES
from workers.files.nesting import NestingGuard
from workers.files.parquet import open_parquet
from workers.files.quotes import check_closed, closes
from workers.files.repeated_keys import LastValueKept
from workers.files.sources import (
    BatchSource,
    Closeable,
    ReadLimits,
    check_batch,
    check_width,
    in_turn,
    prefetch,
)
from workers.files.spreadsheets import open_sheet
from workers.files.streams import BlockLedger, CappedDecompressor, PaddedRows, WholeText

__all__ = ["BatchSource", "ReadLimits", "detected_format", "open_batches", "prefetch"]

#: A stored file at most 1/SMALL_FILE_MARGIN of a block is read without a read-ahead thread:
#: transcoded to UTF-8 (3 bytes a character at most) and its short rows padded, it still fits.
SMALL_FILE_MARGIN = 4


def open_batches(path: Path, fmt: FileFormat, limits: ReadLimits) -> BatchSource:
    """A BatchSource over `path`; FileJobError for input pyarrow cannot read."""
    total = path.stat().st_size
    if parallel_csv.eligible(fmt, total, limits):
        streaming = partial(_open_streaming, path, fmt, limits, total)
        source = parallel_csv.open_parallel(path, fmt, limits, total, streaming, convert_options)
        if source is not None:
            try:
                check_width(source.schema, limits)
                _check_text(source.schema, fmt)
            except BaseException:
                source.close()
                raise
            return source
    return _open_streaming(path, fmt, limits, total)


def _open_streaming(path: Path, fmt: FileFormat, limits: ReadLimits, total: int) -> BatchSource:
    raw = path.open("rb")
    opened: Closeable = raw  # the ledger, once made: closing it releases pyarrow's reader thread
    try:
        if fmt.kind == "parquet":
            return open_parquet(raw, limits, total)
        if fmt.kind == "spreadsheet":
            return open_sheet(raw, fmt, limits, total)
        # A file well within one block (whatever decompressing or transcoding makes of it) is
        # read in turn: its first block, parsed when the reader was opened, is all of it.
        read_ahead = fmt.gzip or total * SMALL_FILE_MARGIN > limits.block_size
        opened = ledger = _ledger(raw, fmt, limits, read_ahead)
        text = ledger.buffer if isinstance(ledger, WholeText) else ledger
        reader = _csv(text, fmt, limits) if fmt.kind == "csv" else _jsonl(text, limits)
        check_width(reader.schema, limits)
        _check_text(reader.schema, fmt)
    except pa.ArrowInvalid as exc:
        opened.close()
        raise from_arrow_error(exc, fmt.kind) from exc
    except BaseException:
        opened.close()
        raise
    return BatchSource(
        reader.schema,
        _closing(reader, ledger, fmt, limits, read_ahead),
        lambda batches, _rows: ledger.processed(batches),
        total,
        ledger,
    )


def _ledger(
    raw: BinaryIO, fmt: FileFormat, limits: ReadLimits, read_ahead: bool
) -> BlockLedger | WholeText:
    """The file's text for pyarrow: a small CSV's whole (its rows padded, it could be many times
    its size), else block by block (a JSON Lines file's guards read it so)."""
    text = text_stream(raw, fmt, limits)
    if fmt.kind == "csv" and not read_ahead and not fmt.pad_rows:
        return WholeText(text, raw)
    return BlockLedger(text, raw)


def detected_format(path: Path, params: JobParams, limits: ReadLimits) -> FileFormat:
    """`detect_format`, reading on past the sample when it ends inside a quoted value of the
    first row, to that quote's close or the end: never closed, the quote fails as in a short
    file (`unclosed_quote`), not as a first row too long."""
    try:
        return detect_format(path, params, limits.max_columns)
    except QuoteOpenPastSample as cut:
        with path.open("rb") as raw:
            if closes(text_stream(raw, cut.fmt, limits), cut.start):
                raise
        raise cut.unclosed from None


def text_stream(raw: BinaryIO, fmt: FileFormat, limits: ReadLimits) -> Any:
    """The file's text as UTF-8 bytes without a byte-order mark: decompressed, transcoded and
    its short rows padded, as the format needs."""
    stream: Any = raw
    if fmt.gzip:
        stream = CappedDecompressor(raw, limits.max_decompressed, limits.max_decompression_ratio)
    if fmt.bom:
        stream.read(fmt.bom)
    if fmt.encoding not in (None, "utf-8"):
        stream = Utf8Transcoder(stream, str(fmt.encoding))
    if fmt.pad_rows:
        stream = PaddedRows(stream, fmt.delimiter, fmt.names, fmt.header, fmt.hint_lines)
    if fmt.kind == "jsonl":
        stream = NestingGuard(stream, limits.max_json_depth, limits.max_columns)
    if fmt.kind == "jsonl" and limits.last_value_kept:  # the depth checked first: Python's too
        stream = LastValueKept(stream, limits.block_size)
    return stream


def _csv(stream: Any, fmt: FileFormat, limits: ReadLimits) -> Any:
    return pa_csv.open_csv(
        stream,
        read_options=pa_csv.ReadOptions(
            block_size=limits.block_size,
            column_names=list(fmt.names),
            skip_rows=fmt.header_lines,
            use_threads=False,
        ),
        parse_options=pa_csv.ParseOptions(delimiter=fmt.delimiter, newlines_in_values=True),
        convert_options=convert_options(fmt, limits.column_types),
    )


def convert_options(fmt: FileFormat, column_types: dict[str, Any]) -> pa_csv.ConvertOptions:
    # Missing values are exactly pandas' default `na_values`, quoted or not, as in read_csv;
    # booleans are pandas' spellings (pyarrow's would also take 0 and 1).
    return pa_csv.ConvertOptions(
        null_values=list(PANDAS_NA_VALUES),
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        column_types=column_types,
        decimal_point=fmt.decimal,
        true_values=["True", "TRUE", "true"],
        false_values=["False", "FALSE", "false"],
    )


def _jsonl(stream: Any, limits: ReadLimits) -> Any:
    # Types scanned from every line, once the first block's broke; other fields inferred.
    schema = pa.schema(list(limits.column_types.items())) if limits.column_types else None
    return pa_json.open_json(
        stream,
        read_options=pa_json.ReadOptions(block_size=limits.block_size),
        parse_options=pa_json.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="infer"
        ),
    )


def _closing(
    reader: Any,
    ledger: BlockLedger | WholeText,
    fmt: FileFormat,
    limits: ReadLimits,
    read_ahead: bool,
) -> Generator[pa.RecordBatch, None, None]:
    batches = prefetch if read_ahead else in_turn
    last, rows_before = None, 0
    try:
        for batch in batches(reader.read_next_batch):
            check_batch(batch, limits, fmt.kind == "jsonl")
            check_no_blank_value(batch, fmt)
            if batch.num_rows:
                rows_before += last.num_rows if last is not None else 0
                last = batch
            yield batch
        if fmt.kind == "csv" and last is not None:
            check_closed(last, rows_before, ledger.tail, fmt.delimiter)
    except pa.ArrowInvalid as exc:
        raise from_arrow_error(exc, fmt.kind) from exc
    finally:
        ledger.close()


def _check_text(schema: pa.Schema, fmt: FileFormat) -> None:
    """pyarrow types a column with undecodable bytes in its first block as binary; pandas fails
    on such a file (it reads text as UTF-8 unless told otherwise), and so do we."""
    for field in schema:
        if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            raise FileJobError(
                "invalid_encoding",
                f"Column {field.name!r} is not {fmt.encoding} text; name the file's encoding in "
                "the params (`encoding`) or re-save it as UTF-8.",
            )
