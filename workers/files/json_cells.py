"""Nested values (structs, lists, maps) as JSON text, one value to a CSV cell.

pyarrow's CSV writer has no text for a nested value, and pandas' `to_csv` writes Python's repr
of what it holds (`{'x': 1}`, a numpy array's `[1 2]`, a map's `[('k', 1)]`), which no CSV
consumer can parse back. JSON text can be: a struct is an object, a list an array, a map an
object of its pairs (as Spark's `to_json` writes one; every pair, in order, a repeated key
too). NaN and infinities are `null`, as in a result; decimals are numbers; dates and times
are text as a CSV cell has them (`2024-01-31 12:00:00`); bytes are base64, as a bytes
column's cells are (`cell_text.py`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pyarrow as pa

from workers.files.cell_text import bytes_text

#: Arrow bytes of a nested column made into Python values at once: their objects take ten
#: times that or more, so a batch of long lists is written a slice at a time.
SLICE_BYTES = 1 << 20
#: Dates and times go through `_leaf`, so that pandas' Timestamp (what pyarrow gives for
#: nanoseconds) and Python's datetime are written alike.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME


def json_cell_schema(schema: pa.Schema) -> pa.Schema:
    """`schema` with its nested columns as text, as `nested_as_json` writes them."""
    return pa.schema(
        [pa.field(f.name, pa.string()) if pa.types.is_nested(f.type) else f for f in schema]
    )


def nested_as_json(batch: pa.RecordBatch) -> pa.RecordBatch:
    """`batch` with each nested value as its JSON text (a missing one stays missing)."""
    if not any(pa.types.is_nested(f.type) for f in batch.schema):
        return batch
    columns = [
        _as_json(column) if pa.types.is_nested(column.type) else column for column in batch.columns
    ]
    return pa.RecordBatch.from_arrays(columns, schema=json_cell_schema(batch.schema))


def _as_json(column: pa.Array) -> pa.Array:
    rows = max(1, len(column) * SLICE_BYTES // max(1, column.nbytes))
    parts = [_texts(column.slice(at, rows)) for at in range(0, len(column), rows)]
    return pa.concat_arrays(parts) if parts else pa.array([], pa.string())


def _texts(column: pa.Array) -> pa.Array:
    values = column.to_pylist()
    if _holds_map(column.type):
        values = [_plain(value, column.type) for value in values]
    return pa.array([None if v is None else _dumps(v) for v in values], pa.string())


def _holds_map(type_: pa.DataType) -> bool:
    return pa.types.is_map(type_) or any(
        _holds_map(type_.field(i).type) for i in range(type_.num_fields)
    )


def _plain(value: Any, type_: pa.DataType) -> Any:
    """`value` (as `to_pylist` gives it) with each map, a list of pairs there, as an object."""
    if value is None:
        return None
    if pa.types.is_map(type_):
        pairs = [_dumps(_key(k)) + b":" + _dumps(_plain(v, type_.item_type)) for k, v in value]
        return orjson.Fragment(b"{" + b",".join(pairs) + b"}")
    if pa.types.is_struct(type_):
        return {field.name: _plain(value[field.name], field.type) for field in type_.fields}
    if type_.num_fields == 1 and isinstance(value, list):  # the list kinds: one value field
        return [_plain(item, type_.field(0).type) for item in value]
    return value


def _key(key: Any) -> str:
    """A map's key as an object's name: text as it is, anything else as its JSON text."""
    if isinstance(key, str):
        return key
    text = _dumps(key)
    return str(orjson.loads(text)) if text.startswith(b'"') else text.decode()


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_leaf, option=_OPTIONS)


def _leaf(value: Any) -> Any:
    """What JSON has no value for, written as text (a decimal as the number it is)."""
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    if isinstance(value, bytes):
        return bytes_text(value)
    return str(value)
