"""Parquet, read row group by row group, as pandas' `read_parquet` sees it: float NaN is a
missing value, and the columns pandas stored for a DataFrame's index are its index, not data."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from workers.files.errors import FileJobError, from_arrow_error
from workers.files.sources import BatchSource, ReadLimits, check_width


def open_parquet(raw: BinaryIO, limits: ReadLimits, total: int) -> BatchSource:
    try:
        parquet = pq.ParquetFile(raw)
    except (pa.ArrowException, OSError) as exc:
        raise from_arrow_error(exc, "parquet") from exc
    index = index_columns(parquet.schema_arrow)
    columns = [name for name in parquet.schema_arrow.names if name not in index]
    schema = pa.schema([parquet.schema_arrow.field(name) for name in columns])
    check_width(schema, limits)
    meta = parquet.metadata
    rows_per_batch = max(1024, limits.block_size // _row_bytes(meta))

    def processed(_batches: int, rows: int) -> int:
        return int(total * rows // max(1, meta.num_rows))

    def batches() -> Generator[pa.RecordBatch, None, None]:
        done = 0
        try:
            for batch in parquet.iter_batches(batch_size=rows_per_batch, columns=columns):
                done += batch.num_rows
                yield nan_as_null(batch)
        except (pa.ArrowException, OSError) as exc:
            raise from_arrow_error(exc, "parquet") from exc
        finally:
            raw.close()
        if done != meta.num_rows:
            raise FileJobError(
                "corrupt_parquet",
                f"The Parquet footer promises {meta.num_rows} rows but the file holds {done}.",
            )

    return BatchSource(schema, batches(), processed, total, raw)


def index_columns(schema: pa.Schema) -> set[str]:
    """Stored columns that pandas' metadata names as the index (a RangeIndex stores none)."""
    try:
        metadata = schema.pandas_metadata or {}
    except ValueError:  # metadata that is not JSON: no index to restore
        return set()
    stored = [c for c in metadata.get("index_columns", []) if isinstance(c, str)]
    return {c for c in stored if c in schema.names}


def nan_as_null(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Float NaN as a missing value (what numpy, polars and Spark writers store for one)."""
    columns: list[Any] = list(batch.columns)
    changed = False
    for i, column in enumerate(columns):
        if pa.types.is_floating(column.type) and pc.any(pc.is_nan(column)).as_py():
            columns[i] = pc.if_else(pc.is_nan(column), None, column)
            changed = True
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema) if changed else batch


def _row_bytes(meta: Any) -> int:
    if not meta.num_row_groups:
        return 1
    group = meta.row_group(0)
    return max(1, int(group.total_byte_size) // max(1, int(group.num_rows)))
