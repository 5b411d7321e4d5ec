"""Excel and OpenDocument sheets (`.xlsx`, `.xlsm`, `.xls`, `.ods`) read with `python-calamine`,
as pandas' `read_excel(engine="calamine")` reads them: first sheet unless `sheet` names one, first
row the header, empty cells and pandas' NA spellings missing, whole numbers as integers.

calamine holds a whole sheet in memory, so the workbook is refused before it is opened when its
container could not fit the budget: the zip's declared decompressed size, or an `.xls`'s own size.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Generator, Iterator
from typing import Any, BinaryIO

import pyarrow as pa
from python_calamine import CalamineError, CalamineSheet, CalamineWorkbook

from workers.files.column_names import column_names
from workers.files.errors import FileJobError
from workers.files.file_format import FileFormat
from workers.files.na_values import PANDAS_NA_VALUES
from workers.files.sources import BatchSource, ReadLimits, check_width

#: Memory calamine and a batch of rows take per cell, at most (a cell's value, its Python form).
BYTES_PER_CELL = 64
_NA = frozenset(PANDAS_NA_VALUES)


def open_sheet(raw: BinaryIO, fmt: FileFormat, limits: ReadLimits, total: int) -> BatchSource:
    _check_container(raw, limits, total)
    sheet = _sheet(raw, limits.sheet)
    if sheet.height * sheet.width > limits.sheet_budget // BYTES_PER_CELL:
        raise FileJobError(
            "too_many_cells",
            f"The sheet has {sheet.height} x {sheet.width} cells; at most "
            f"{limits.sheet_budget // BYTES_PER_CELL} fit the memory budget.",
        )
    rows = _data_rows(sheet)
    first = next(rows, None)
    if first is None:
        raise FileJobError("empty_file", "The sheet is empty.")
    names = column_names([_text(v) for v in first], fmt.header)
    schema = pa.schema([(n, t) for n, t in zip(names, _types(sheet, fmt.header), strict=True)])
    check_width(schema, limits)
    count = sum(1 for _ in _data_rows(sheet)) - (1 if fmt.header else 0)
    batch_rows = max(1, limits.block_size // (BYTES_PER_CELL * max(1, len(names))))

    def processed(_batches: int, done: int) -> int:
        return int(total * done // max(1, count))

    start = rows if fmt.header else _data_rows(sheet)
    return BatchSource(schema, _batches(start, schema, batch_rows), processed, total, raw)


def _check_container(raw: BinaryIO, limits: ReadLimits, total: int) -> None:
    cap = min(limits.max_decompressed, limits.sheet_budget // 2)
    size = total
    if zipfile.is_zipfile(raw):
        with zipfile.ZipFile(raw) as archive:
            size = sum(info.file_size for info in archive.infolist())
    raw.seek(0)
    if size > cap:
        raise FileJobError(
            "decompressed_too_large",
            f"The workbook holds {size} bytes of sheets; at most {cap} fit the memory budget "
            "(export the sheet as CSV instead).",
        )


def _sheet(raw: BinaryIO, wanted: str | int | None) -> CalamineSheet:
    try:
        workbook = CalamineWorkbook.from_filelike(raw)
        names = workbook.sheet_names
        if isinstance(wanted, str):
            if wanted not in names:
                raise FileJobError(
                    "unknown_sheet", f"No sheet named {wanted!r}; there are {names}."
                )
            return workbook.get_sheet_by_name(wanted)
        index = wanted or 0
        if not 0 <= index < len(names):
            raise FileJobError("unknown_sheet", f"No sheet {index}; there are {len(names)}.")
        return workbook.get_sheet_by_index(index)
    except CalamineError as exc:
        raise FileJobError("unreadable_file", f"The workbook could not be read: {exc}") from exc


def _data_rows(sheet: CalamineSheet) -> Iterator[list[Any]]:
    """Rows with their missing cells as None; rows with nothing in them skipped, as pandas."""
    for row in sheet.iter_rows():
        cells = [None if isinstance(v, str) and v in _NA else v for v in row]
        if any(v is not None for v in cells):
            yield cells


def _types(sheet: CalamineSheet, header: bool) -> list[pa.DataType]:
    """Each column's type, decided from all its values (a pass over the sheet in memory)."""
    kinds: list[set[str]] = [set() for _ in range(sheet.width)]
    rows = _data_rows(sheet)
    if header:
        next(rows, None)
    for row in rows:
        for i, value in enumerate(row):
            if value is not None:
                kinds[i].add(_kind(value))
    return [_arrow_type(k) for k in kinds]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dt.datetime | dt.date):
        return "datetime"
    return "string"


def _arrow_type(kinds: set[str]) -> pa.DataType:
    if kinds <= {"int"}:
        return pa.int64() if kinds else pa.float64()  # an empty column is float64 in pandas
    if kinds <= {"int", "float"}:
        return pa.float64()
    if kinds == {"bool"}:
        return pa.bool_()
    if kinds == {"datetime"}:
        return pa.timestamp("us")
    return pa.string()


def _batches(
    rows: Iterator[list[Any]], schema: pa.Schema, size: int
) -> Generator[pa.RecordBatch, None, None]:
    chunk: list[list[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield _batch(chunk, schema)
            chunk = []
    if chunk:
        yield _batch(chunk, schema)


def _batch(rows: list[list[Any]], schema: pa.Schema) -> pa.RecordBatch:
    columns = []
    for i, field in enumerate(schema):
        values = [row[i] if i < len(row) else None for row in rows]
        values = [None if v is None else _CONVERT[str(field.type)](v) for v in values]
        columns.append(pa.array(values, type=field.type, from_pandas=False))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _timestamp(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


_CONVERT: dict[str, Any] = {
    "int64": int,
    "double": float,
    "bool": bool,
    "timestamp[us]": _timestamp,
    "string": _text,
}
