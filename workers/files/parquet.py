"""Parquet, read row group by row group, as pandas' `read_parquet` sees it: float NaN is a
missing value, and the columns pandas stored for a DataFrame's index are its index, not data to
profile (a convert or an aggregate reads them first, as columns: `ReadLimits.keep_index`)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Generator
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from workers.files.errors import FileJobError, from_arrow_error, listed
from workers.files.sources import (
    BatchSource,
    ReadLimits,
    check_cell_size,
    check_width,
    is_variable_width,
)


def open_parquet(raw: BinaryIO, limits: ReadLimits, total: int) -> BatchSource:
    try:
        stored = pq.ParquetFile(raw).schema_arrow
        _check_names_unique(stored)
        schema = _read_schema(stored, limits.keep_index)
        columns = schema.names
        check_width(schema, limits)
        # Text read as dictionaries: a value's decoded size is known before it is repeated
        # over the rows (a 1 MB value on 1,500 rows is a 300-byte file).
        texts = [field.name for field in schema if is_variable_width(field.type)]
        # No pre-buffering: it fetches ahead the column chunks of every row group iterated,
        # held outside Arrow's pool (a 170 MB file peaked 270 MiB above the process's size).
        parquet = pq.ParquetFile(raw, read_dictionary=texts, pre_buffer=False)
    except (pa.ArrowException, OSError) as exc:
        raise from_arrow_error(exc, "parquet") from exc
    num_rows = parquet.metadata.num_rows
    rows_per_batch = max(64, limits.block_size // _fixed_row_bytes(schema))

    def processed(_batches: int, rows: int) -> int:
        return int(total * rows // max(1, num_rows))

    def batches() -> Generator[pa.RecordBatch, None, None]:
        done = 0
        try:
            for batch in parquet.iter_batches(batch_size=rows_per_batch, columns=columns):
                done += batch.num_rows
                for part in decoded_slices(batch, schema, limits):
                    yield nan_as_null(part)
        except (pa.ArrowException, OSError) as exc:
            raise from_arrow_error(exc, "parquet") from exc
        finally:
            raw.close()
        if done != num_rows:
            raise FileJobError(
                "corrupt_parquet",
                f"The Parquet footer promises {num_rows} rows but the file holds {done}.",
            )

    return BatchSource(schema, batches(), processed, total, raw)


def _check_names_unique(stored: pa.Schema) -> None:
    """duplicate_columns for a file with two columns of one name: pyarrow writes one, but
    pandas' read_parquet refuses it (it renames a CSV's repeats, `a.1`, not a Parquet file's),
    and a column cannot be told from its namesake by name."""
    counts = Counter(stored.names)
    repeated = [name for name, count in counts.items() if count > 1]
    if repeated:
        raise FileJobError(
            "duplicate_columns",
            f"Column names used more than once: {listed(repeated)}. Give each column its own "
            "name and write the file again (pandas' read_parquet refuses such a file too).",
        )


def decoded_slices(
    batch: pa.RecordBatch, schema: pa.Schema, limits: ReadLimits
) -> Generator[pa.RecordBatch, None, None]:
    """`batch` with its dictionaries decoded, in slices of at most a block once decoded (a row
    larger than that is a slice of its own; a value over the cell cap fails first)."""
    sizes = np.full(batch.num_rows, _fixed_row_bytes(schema), dtype=np.int64)
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if pa.types.is_dictionary(column.type):
            lengths = pc.binary_length(column.dictionary)
            check_cell_size(name, (pc.max(lengths).as_py() or 0) if len(lengths) else 0, limits)
            taken = pc.fill_null(pc.take(lengths, column.indices), 0)
            sizes += taken.to_numpy(zero_copy_only=False).astype(np.int64)
    ends = np.cumsum(sizes)
    start = 0
    while start < batch.num_rows:
        before = int(ends[start - 1]) if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, before + limits.block_size, "right")))
        part = batch.slice(start, stop - start)
        columns = [_decoded(c, f) for c, f in zip(part.columns, schema, strict=True)]
        yield pa.RecordBatch.from_arrays(columns, schema=schema)
        start = stop


def _decoded(column: pa.Array, field: pa.Field) -> pa.Array:
    """Text read as a dictionary (`read_dictionary`) as its values. A column stored as one (a
    pandas categorical) stays one, with its dictionary: decoded, the batch's schema encoded it
    again in the order values came, and the categories' order was lost."""
    if pa.types.is_dictionary(column.type) and not pa.types.is_dictionary(field.type):
        return column.dictionary_decode()
    return column


def _read_schema(stored: pa.Schema, keep_index: bool) -> pa.Schema:
    """The columns read: a profile's without the index (as `describe()`), a convert's or an
    aggregate's with it first (where `to_csv` writes the index)."""
    index = index_columns(stored)
    columns = [name for name in stored.names if name not in index]
    if not keep_index:
        return pa.schema([stored.field(name) for name in columns])
    schema = pa.schema([stored.field(name) for name in [*index, *columns]])
    return _renamed_index_kept(schema, stored)


def index_columns(schema: pa.Schema) -> list[str]:
    """Stored columns that pandas' metadata names as the index, in its order (a RangeIndex
    stores none)."""
    stored = [c for c in _pandas_metadata(schema).get("index_columns", []) if isinstance(c, str)]
    return [c for c in stored if c in schema.names]


def renamed_index(schema: pa.Schema) -> dict[str, str]:
    """Index columns stored under another name than theirs, each to its own: pyarrow stores an
    index named as a column (or as an earlier level) as `__index_level_0__`, its name kept in
    the metadata. An unnamed index has no other name than the one it is stored under."""
    names = _described_names(_pandas_metadata(schema))
    return {
        stored: names[stored]
        for stored in index_columns(schema)
        if names.get(stored, stored) != stored
    }


def _described_names(metadata: dict[str, Any]) -> dict[str, str]:
    """Each column the metadata describes, by its stored name, to its name in pandas."""
    described = metadata.get("columns")
    columns = [c for c in described if isinstance(c, dict)] if isinstance(described, list) else []
    pairs = [(c.get("field_name"), c.get("name")) for c in columns]
    return {s: n for s, n in pairs if isinstance(s, str) and isinstance(n, str)}


def pandas_names(schema: pa.Schema) -> list[str]:
    """The columns' names as pandas names them: a renamed index (`renamed_index`) by its own,
    which may be a column's too (as `to_csv` writes it: `id,id,v`)."""
    renamed = renamed_index(schema)
    return [renamed.get(name, name) for name in schema.names]


def _renamed_index_kept(schema: pa.Schema, stored: pa.Schema) -> pa.Schema:
    """`schema` with pandas metadata naming as the index only its renamed columns: they cannot
    be columns under their name beside the column that has it (pyarrow cannot read back a
    Parquet file with two columns of one name, and pandas refuses to write one), so a Parquet
    convert writes them as pandas wrote them, and `read_parquet` gives them back as the index."""
    renamed = renamed_index(stored)
    if not renamed:
        return schema
    metadata = {**_pandas_metadata(stored), "index_columns": list(renamed)}
    return schema.with_metadata({b"pandas": json.dumps(metadata).encode()})


def _pandas_metadata(schema: pa.Schema) -> dict[str, Any]:
    try:
        metadata = schema.pandas_metadata
    except ValueError:  # metadata that is not JSON: no index to restore
        return {}
    return metadata if isinstance(metadata, dict) else {}


def nan_as_null(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Float NaN as a missing value (what numpy, polars and Spark writers store for one)."""
    columns: list[Any] = list(batch.columns)
    changed = False
    for i, column in enumerate(columns):
        if pa.types.is_floating(column.type) and pc.any(pc.is_nan(column)).as_py():
            columns[i] = pc.if_else(pc.is_nan(column), None, column)
            changed = True
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema) if changed else batch


def _fixed_row_bytes(schema: pa.Schema) -> int:
    """Bytes a row takes decoded, text aside (counted per value): fixed-width values, the
    offsets of text, and a guess for nested values (the memory watchdog bounds those)."""
    size = 0
    for field in schema:
        try:
            size += max(1, field.type.bit_width // 8)
        except ValueError:  # not fixed-width: offsets of text, or nested values
            size += 8 if is_variable_width(field.type) else 64
    return max(1, size)
