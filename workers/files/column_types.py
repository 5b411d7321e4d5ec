"""A CSV column's type decided from all of its values, as pandas does, not from the first block.

pyarrow's streaming reader fixes each column's type from the first block; a sparse column
(empty there) or one that turns from integers to decimals further down then fails to convert.
When that happens the runner scans the file once with every column as text, folds each block's
type into the column's, and reads again with those types.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from workers.files.formats import FileFormat
from workers.files.readers import convert_options, text_stream
from workers.files.sources import ReadLimits
from workers.files.streams import BlockLedger

_BOOLEANS = ["True", "TRUE", "true", "False", "FALSE", "false"]
_INTEGER = r"^[+-]?\d+$"


def scan_types(path: Path, fmt: FileFormat, limits: ReadLimits) -> dict[str, pa.DataType]:
    """Each column's type over the whole file: null, int64, float64, bool, timestamp or string."""
    types: dict[str, pa.DataType] = dict.fromkeys(fmt.names, pa.null())
    raw = path.open("rb")
    ledger = BlockLedger(text_stream(raw, fmt, limits), raw)  # closes `raw`
    try:
        for done, batch in enumerate(_as_text(ledger, fmt, limits), 1):
            for name, values in zip(fmt.names, batch.columns, strict=True):
                if not pa.types.is_string(types[name]):
                    types[name] = widen(types[name], block_type(values, fmt.decimal))
            ledger.processed(done)
    finally:
        ledger.close()
    return types


def _as_text(stream: BlockLedger, fmt: FileFormat, limits: ReadLimits) -> Any:
    return pa_csv.open_csv(
        stream,
        read_options=pa_csv.ReadOptions(
            block_size=limits.block_size,
            use_threads=False,
            column_names=list(fmt.names),
            skip_rows=fmt.header_lines,
        ),
        parse_options=pa_csv.ParseOptions(delimiter=fmt.delimiter, newlines_in_values=True),
        convert_options=convert_options(fmt, dict.fromkeys(fmt.names, pa.string())),
    )


def block_type(values: pa.Array, decimal: str = ".") -> pa.DataType:
    """The narrowest type every non-missing value of a text block converts to."""
    present = values.drop_null()
    if len(present) == 0:
        return pa.null()
    if pc.all(pc.match_substring_regex(present, _INTEGER)).as_py() and _fits(present, pa.int64()):
        return pa.int64()
    numbers = pc.replace_substring(present, ",", ".") if decimal == "," else present
    if _fits(numbers, pa.float64()):
        return pa.float64()
    if pc.all(pc.is_in(present, pa.array(_BOOLEANS))).as_py():
        return pa.bool_()
    if _fits(present, pa.timestamp("ns")):
        return pa.timestamp("ns")
    return pa.string()


def widen(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    """The type that holds both: integers and decimals make float64, anything else text."""
    if pa.types.is_null(a) or a == b:
        return b
    if pa.types.is_null(b):
        return a
    if {a, b} == {pa.int64(), pa.float64()}:
        return pa.float64()
    return pa.string()


def _fits(values: Any, type_: pa.DataType) -> bool:
    try:
        pc.cast(values, type_)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def scan_json_types(path: Path, fmt: FileFormat, limits: ReadLimits) -> dict[str, pa.DataType]:
    """Each top-level field's type over every line of a JSON Lines file (a slow path in Python,
    taken only once pyarrow's first-block types broke). Nested values are left to pyarrow."""
    types: dict[str, pa.DataType] = {}
    with path.open("rb") as raw:
        for line in io.TextIOWrapper(text_stream(raw, fmt, limits), encoding="utf-8"):
            if not line.strip():
                continue
            row = json.loads(line)
            for name, value in row.items() if isinstance(row, dict) else ():
                types[name] = widen(types.get(name, pa.null()), _json_type(value))
    return {name: t for name, t in types.items() if not pa.types.is_binary(t)}


def _json_type(value: Any) -> pa.DataType:
    if value is None:
        return pa.null()
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64()
    if isinstance(value, float):
        return pa.float64()
    return pa.string() if isinstance(value, str) else pa.binary()  # nested: see below
