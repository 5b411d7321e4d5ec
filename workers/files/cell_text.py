"""Values a CSV cell has no text of its own for, as a converted CSV and a profile's `top` show
them: one rule, so a user sees one representation of a value wherever it appears.

- Bytes (a Parquet `binary` column) are base64 (standard alphabet, padded), always: bytes need
  not be UTF-8, and a column written as text where it decodes and base64 where it does not
  could not be read back. pandas' `to_csv` writes Python's repr (`b'ok'`), which no CSV
  consumer can parse back. `json_cells.py` writes bytes inside a nested value the same way.
- A UUID (Arrow's `arrow.uuid` extension type) is its canonical text, as `str(uuid.UUID)` and
  pandas write it: `12345678-1234-5678-1234-567812345678`. A profile summarises a UUID column
  as a string column of this text.
- Arrow's other canonical extension types (`arrow.json`, `arrow.bool8`, the tensors) are
  written as their storage, which is what pandas reads for them. Any other extension type (a
  writer's own, such as pandas' `pandas.period`) has storage whose values mean nothing without
  its writer: converting such a column to CSV fails `unsupported_type`, naming it.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable

import pyarrow as pa

from workers.files.errors import FileJobError

#: Extension types whose storage holds their values as a reader would show them.
_CANONICAL_PREFIX = "arrow."


def bytes_text(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def is_uuid(type_: pa.DataType) -> bool:
    """A UUID column: Arrow's `arrow.uuid`, as pyarrow reads a Parquet UUID column."""
    return isinstance(type_, pa.BaseExtensionType) and type_.extension_name == "arrow.uuid"


def uuid_texts(column: pa.Array) -> pa.Array:
    """A UUID column's values in their canonical text (a missing one stays missing)."""
    return _texts(column.storage, lambda raw: str(uuid.UUID(bytes=raw)))


def plain_cell_schema(schema: pa.Schema) -> pa.Schema:
    """`schema` with each column as `plain_cells` writes it."""
    return pa.schema([f.with_type(_plain_type(f.name, f.type)) for f in schema])


def plain_cells(batch: pa.RecordBatch) -> pa.RecordBatch:
    """`batch` with bytes and extension values as text or storage (a missing one stays
    missing); nested columns are left to `json_cells`."""
    if all(_plain_type(f.name, f.type) == f.type for f in batch.schema):
        return batch
    columns = [_plain(column) for column in batch.columns]
    return pa.RecordBatch.from_arrays(columns, schema=plain_cell_schema(batch.schema))


def _plain_type(name: str, type_: pa.DataType) -> pa.DataType:
    if isinstance(type_, pa.BaseExtensionType):
        _check_extension(name, type_)
        return pa.string() if is_uuid(type_) else _plain_type(name, type_.storage_type)
    if pa.types.is_dictionary(type_) and _is_bytes(type_.value_type):
        return pa.dictionary(type_.index_type, pa.string(), type_.ordered)
    return pa.string() if _is_bytes(type_) else type_


def _plain(column: pa.Array) -> pa.Array:
    if isinstance(column.type, pa.BaseExtensionType):
        if is_uuid(column.type):
            return uuid_texts(column)
        return _plain(column.storage)
    if pa.types.is_dictionary(column.type) and _is_bytes(column.type.value_type):
        return pa.DictionaryArray.from_arrays(
            column.indices, _plain(column.dictionary), ordered=column.type.ordered
        )
    return _texts(column, bytes_text) if _is_bytes(column.type) else column


def _texts(column: pa.Array, text: Callable[[bytes], str]) -> pa.Array:
    values = column.to_pylist()
    return pa.array([None if v is None else text(v) for v in values], pa.string())


def _is_bytes(type_: pa.DataType) -> bool:
    return bool(
        pa.types.is_binary(type_)
        or pa.types.is_large_binary(type_)
        or pa.types.is_fixed_size_binary(type_)
        or pa.types.is_binary_view(type_)
    )


def _check_extension(name: str, type_: pa.BaseExtensionType) -> None:
    if type_.extension_name.startswith(_CANONICAL_PREFIX):
        return
    raise FileJobError(
        "unsupported_type",
        f"Column {name!r} holds values of the extension type {type_.extension_name!r}, which "
        "has no text for a CSV cell. Convert to Parquet (which keeps it), or store the column "
        "as a plain type (text, numbers or dates) and convert again.",
    )
