"""How much data a file job may decode: a bound on the work and output of one upload.

A few KB of Parquet can hold gigabytes of repeated text (a dictionary of one long value over
millions of rows); profiled, it held the only pool process for minutes, and converted, it wrote
gigabytes of CSV. The bytes the batches take decoded are counted as they are read, against an
absolute cap and a ratio to the stored file's size (past a first slack, so a small file of
ordinary data never trips it): a bomb fails at once, whatever its format.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from workers.files.errors import FileJobError

#: Decoded bytes any file may give before the ratio cap applies (a CSV decodes to about its
#: own size; sorted low-cardinality Parquet columns to far more, which this much leaves alone).
DECODED_SLACK = 256 * 1024**2


def decoded_size(batch: pa.RecordBatch) -> int:
    """Bytes the batch's values take decoded: a dictionary column as the values its indices
    name (each batch counted on its own: a shared dictionary is not counted once per batch)."""
    return sum(_column_size(column) for column in batch.columns)


def _column_size(column: pa.Array) -> int:
    if not pa.types.is_dictionary(column.type):
        return int(column.nbytes)
    values = column.dictionary
    if len(values) == 0:
        return int(column.indices.nbytes)
    if not _is_binary_like(values.type):  # numbers, or nested values: their average size
        return int(values.nbytes) * len(column) // len(values)
    taken = pc.sum(pc.take(pc.binary_length(values), column.indices)).as_py() or 0
    return 4 * len(column) + int(taken)  # the values and their offsets


def _is_binary_like(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    )


class DecodedBudget:
    """Counts a job's decoded bytes; `spend` fails the job (`decoded_too_large`) past the cap,
    or past `ratio` times the stored file's size once DECODED_SLACK is decoded."""

    def __init__(self, stored_bytes: int, cap: int, ratio: int) -> None:
        self.cap, self.ratio, self.decoded = cap, ratio, 0
        self.ratio_cap = DECODED_SLACK + ratio * stored_bytes

    def spend(self, batch: pa.RecordBatch) -> None:
        self.decoded += decoded_size(batch)
        if self.decoded > self.cap:
            raise FileJobError(
                "decoded_too_large",
                f"The file's data takes more than {_gib(self.cap)} once decoded (the configured "
                "cap, JOBCAST_JOB_MAX_DECODED_BYTES); upload a smaller file or split it.",
            )
        if self.decoded > self.ratio_cap:
            raise FileJobError(
                "decoded_too_large",
                f"The file's data takes more than {self.ratio} times the file's size once "
                f"decoded (past the first {DECODED_SLACK >> 20} MiB): a decompression bomb, or "
                "extremely repetitive data (the cap is JOBCAST_JOB_MAX_DECODED_RATIO).",
            )


def _gib(size: int) -> str:
    return f"{size / 2**30:.2f} GiB" if size >= 2**30 else f"{size / 2**20:.0f} MiB"
