"""Write record batches as Parquet or CSV, one batch at a time, to an artifact file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from jobcast.storage_paths import ARTIFACT_PARTIAL_SUFFIX, partial_path


class ArtifactWriter:
    """Writes to the artifact's partial path and renames on `finish`, so a rerun never sees
    half a file."""

    def __init__(self, path: Path, to: str, schema: pa.Schema) -> None:
        self.path, self.to = path, to
        self.partial = partial_path(path, ARTIFACT_PARTIAL_SUFFIX)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer: Any = (
            pq.ParquetWriter(str(self.partial), schema)
            if to == "parquet"
            else pa_csv.CSVWriter(str(self.partial), _text_floats(schema))
        )

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch if self.to == "parquet" else floats_as_text(batch))

    def size(self) -> int:
        """Bytes written so far (a Parquet row group reaches the file once it is complete)."""
        return self.partial.stat().st_size

    def finish(self) -> int:
        self._writer.close()
        os.replace(self.partial, self.path)
        return self.path.stat().st_size

    def abort(self) -> None:
        self._writer.close()
        self.partial.unlink(missing_ok=True)


def _text_floats(schema: pa.Schema) -> pa.Schema:
    return pa.schema(
        [pa.field(f.name, pa.string()) if pa.types.is_floating(f.type) else f for f in schema]
    )


def floats_as_text(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Float columns written so they read back as floats: `807.0`, not `807` (which pandas
    would read back as an integer). Shortest round-trip digits otherwise, as pyarrow writes."""
    columns = []
    for column in batch.columns:
        if pa.types.is_floating(column.type):
            text = pc.cast(column, pa.string())
            whole = pc.match_substring_regex(text, r"^-?\d+$")
            column = pc.if_else(whole, pc.binary_join_element_wise(text, ".0", ""), text)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=_text_floats(batch.schema))
