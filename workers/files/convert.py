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
from workers.files.cell_text import plain_cell_schema, plain_cells
from workers.files.json_cells import json_cell_schema, nested_as_json
from workers.files.parquet import pandas_names


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
            else _CsvWriter(self.partial, schema)
        )

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)

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


#: A CSV value that must be quoted: it holds the delimiter, a quote or a line break, or it is
#: empty (unquoted, an empty string would read back as a missing value).
_NEEDS_QUOTES = r'[",\r\n]|^$'


class _CsvWriter:
    """CSV as pandas' `to_csv` writes it: values quoted only where they must be. pyarrow's own
    "needed" style quotes every string (and floats, written as text here), so each batch whose
    strings need no quotes is written with none; one that does, as pyarrow quotes. Bytes are
    base64 and UUIDs their canonical text (`cell_text.py`); nested values are JSON text
    (`json_cells.py`), where pandas writes Python's repr."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self._file = pa.OSFile(str(path), "wb")
        nested_as_text = json_cell_schema(plain_cell_schema(schema))
        self._texts = [i for i, f in enumerate(nested_as_text) if _is_text(f.type)]
        # Named as `to_csv` names them: a pandas index stored under another name by its own.
        header = pandas_names(schema)
        written = _text_floats(nested_as_text)
        fields = [f.with_name(name) for f, name in zip(written, header, strict=True)]
        self._header = pa.RecordBatch.from_pylist([], schema=pa.schema(fields))
        names = pa.array(header, pa.string())
        quoted = pc.any(pc.match_substring_regex(names, _NEEDS_QUOTES)).as_py()
        header_style = "needed" if quoted else "none"
        options = pa_csv.WriteOptions(include_header=True, quoting_header=header_style)
        pa_csv.write_csv(self._header, self._file, options)

    def write_batch(self, batch: pa.RecordBatch) -> None:
        batch = nested_as_json(plain_cells(batch))
        if batch.num_columns == 1:
            self._file.write(one_column_lines(floats_as_text(batch).column(0)))
            return
        style = "needed" if self._needs_quotes(batch) else "none"
        options = pa_csv.WriteOptions(include_header=False, quoting_style=style)
        pa_csv.write_csv(floats_as_text(batch), self._file, options)

    def _needs_quotes(self, batch: pa.RecordBatch) -> bool:
        for i in self._texts:
            column = batch.column(i)
            if pa.types.is_dictionary(column.type):
                column = column.dictionary
            if pc.any(pc.match_substring_regex(column, _NEEDS_QUOTES)).as_py():
                return True
        return False

    def close(self) -> None:
        self._file.close()


def one_column_lines(column: pa.Array) -> pa.Buffer:
    """The rows of a one-column table as `to_csv` writes them: a missing value is `""`, not
    the empty line pyarrow writes, which pandas and our reader skip (the row would be lost).
    Each value is quoted only where it needs it, as pandas quotes; an empty string is `""`
    too, so in a one-column CSV it reads back as missing, as pandas' own does."""
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    # The text pyarrow's CSV writer writes: it casts each column to string the same way.
    text = pc.cast(column, pa.string())
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    needs_quotes = pc.match_substring_regex(text, _NEEDS_QUOTES)
    cells = pc.fill_null(pc.if_else(needs_quotes, quoted, text), '""')
    lines = pc.binary_join_element_wise(cells, "\n", "")
    whole = pc.binary_join(pa.ListArray.from_arrays([0, len(lines)], lines), "")
    return whole[0].as_buffer()


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        return _is_text(kind.value_type)
    text_kinds = (pa.types.is_string, pa.types.is_large_string)
    binary_kinds = (pa.types.is_binary, pa.types.is_large_binary)
    return any(bool(check(kind)) for check in (*text_kinds, *binary_kinds))


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
