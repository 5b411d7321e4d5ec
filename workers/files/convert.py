"""Write record batches as Parquet or CSV, one batch at a time, to an artifact file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq


class ArtifactWriter:
    """Writes to `<path>.partial` and renames on `finish`, so a rerun never sees half a file."""

    def __init__(self, path: Path, to: str, schema: pa.Schema) -> None:
        self.path, self.to = path, to
        self.partial = path.with_name(path.name + ".partial")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer: Any = (
            pq.ParquetWriter(str(self.partial), schema)
            if to == "parquet"
            else pa_csv.CSVWriter(str(self.partial), schema)
        )

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)

    def finish(self) -> int:
        self._writer.close()
        os.replace(self.partial, self.path)
        return self.path.stat().st_size

    def abort(self) -> None:
        self._writer.close()
        self.partial.unlink(missing_ok=True)
