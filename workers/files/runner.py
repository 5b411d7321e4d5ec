"""Run one file job end to end on a stored file: pure, no Redis and no Celery.

The task supplies two hooks: `should_stop` (checked between batches, for cancel) and `progress`
(called after every batch; the task decides how often to publish).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from jobcast.jobs.params import JobParams
from workers.files.aggregate import Aggregation
from workers.files.convert import ArtifactWriter
from workers.files.errors import FileJobError
from workers.files.formats import FileFormat, detect_format
from workers.files.profile import TableProfile
from workers.files.readers import BatchSource, ReadLimits, open_batches

#: Resident memory of a worker process before it holds any data: interpreter, Celery, and the
#: pages of pyarrow's shared libraries once its readers and kernels have run (measured about
#: 200-230 MiB on Linux x86-64). The memory budget is for the whole process, so this comes off it.
PROCESS_BASELINE = 240 * 1024**2
#: Least memory given to data, however small the budget (the budget is then not met).
MIN_DATA_BUDGET = 8 * 1024**2


@dataclass(frozen=True)
class JobLimits:
    memory_budget: int
    batch_bytes: int
    max_decompressed: int
    max_columns: int
    max_groups: int
    distinct_limit: int

    @property
    def data_budget(self) -> int:
        """What the job's data may use: the budget less the process's own footprint."""
        return max(MIN_DATA_BUDGET, self.memory_budget - PROCESS_BASELINE)

    def read_limits(self, column_types: dict[str, Any]) -> ReadLimits:
        # A block is a small slice of the data budget: a batch's arrays and temporaries are
        # several times the bytes of text they were parsed from.
        block = max(64 * 1024, min(self.batch_bytes, self.data_budget // 16))
        return ReadLimits(block, self.max_decompressed, self.max_columns, column_types)


@dataclass(frozen=True)
class Progress:
    phase: str
    bytes_done: int
    bytes_total: int
    rows: int
    percent: float
    eta_seconds: float | None


@dataclass
class Hooks:
    should_stop: Callable[[], bool] = lambda: False
    progress: Callable[[Progress], None] = lambda _: None
    started: float = field(default_factory=time.monotonic)


class JobStopped(Exception):
    """`should_stop` said so at a batch boundary (the job was cancelled)."""

    def __init__(self, rows: int) -> None:
        super().__init__(f"stopped after {rows} rows")
        self.rows = rows


def run_job(
    path: Path, params: JobParams, limits: JobLimits, hooks: Hooks, artifact: Path
) -> dict[str, Any]:
    """The job's result; FileJobError for a bad input, JobStopped when cancelled."""
    fmt = detect_format(path)
    column_types: dict[str, Any] = {}
    while True:
        try:
            return _run_once(path, fmt, params, limits, column_types, hooks, artifact)
        except FileJobError as exc:
            if exc.code != "column_type_changed" or exc.column is None:
                raise
            name = _column_name(path, fmt, limits, exc.column)
            if name in column_types:
                raise
            column_types[name] = pa.string()


def _column_name(path: Path, fmt: FileFormat, limits: JobLimits, index: int) -> str:
    source = open_batches(path, fmt, limits.read_limits({}))
    source.close()
    return str(source.schema.names[index])


def _run_once(
    path: Path, fmt: FileFormat, params: JobParams, limits: JobLimits,
    column_types: dict[str, Any], hooks: Hooks, artifact: Path,
) -> dict[str, Any]:  # fmt: skip
    source = open_batches(path, fmt, limits.read_limits(column_types))
    try:
        consumer = _consumer(params, source.schema, limits, artifact)
    except BaseException:
        source.close()
        raise
    rows = 0
    try:
        for batch in source.batches:
            if hooks.should_stop():
                raise JobStopped(rows)
            consumer.update(batch)
            rows += batch.num_rows
            hooks.progress(_progress(source, rows, hooks.started))
    except BaseException:
        consumer.abort()
        raise
    finally:
        source.close()
    if rows == 0:
        consumer.abort()
        raise FileJobError("no_rows", "The file has no data rows (a header alone, or nothing).")
    return {"operation": params.operation, "format": fmt.name, "bytes_read": source.total_bytes,
            **consumer.result()}  # fmt: skip


def _progress(source: BatchSource, rows: int, started: float) -> Progress:
    done, total = source.position(), max(1, source.total_bytes)
    fraction = min(1.0, done / total)
    elapsed = time.monotonic() - started
    eta = elapsed * (1 - fraction) / fraction if fraction > 0 else None
    return Progress("scan", done, total, rows, round(100 * fraction, 1), eta and round(eta, 1))


class _Consumer:
    def update(self, batch: pa.RecordBatch) -> None: ...
    def result(self) -> dict[str, Any]:
        raise NotImplementedError

    def abort(self) -> None:
        """Drop partial output; nothing to do for consumers that write none."""


class _Profiler(_Consumer):
    def __init__(self, schema: pa.Schema, limits: JobLimits) -> None:
        # A quarter of the data budget may hold values for exact quantiles (sorting them at
        # the end briefly needs twice that).
        self.profile = TableProfile(schema, limits.distinct_limit, limits.data_budget // 4)

    def update(self, batch: pa.RecordBatch) -> None:
        self.profile.update(batch)

    def result(self) -> dict[str, Any]:
        return self.profile.summary()


class _Aggregator(_Consumer):
    def __init__(self, params: JobParams, schema: pa.Schema, limits: JobLimits) -> None:
        self.agg = Aggregation(
            params.group_by, {k: list(v) for k, v in params.metrics.items()}, limits.max_groups
        )
        self.agg.check_columns(schema)

    def update(self, batch: pa.RecordBatch) -> None:
        self.agg.update(batch)

    def result(self) -> dict[str, Any]:
        return self.agg.result()


class _Converter(_Consumer):
    def __init__(self, params: JobParams, schema: pa.Schema, artifact: Path) -> None:
        self.writer = ArtifactWriter(artifact, params.to or "parquet", schema)
        self.rows, self.columns = 0, len(schema)

    def update(self, batch: pa.RecordBatch) -> None:
        self.writer.write(batch)
        self.rows += batch.num_rows

    def result(self) -> dict[str, Any]:
        size = self.writer.finish()
        return {"rows": self.rows, "columns": self.columns, "artifact_bytes": size,
                "artifact_format": self.writer.to}  # fmt: skip

    def abort(self) -> None:
        self.writer.abort()


def _consumer(params: JobParams, schema: pa.Schema, limits: JobLimits, artifact: Path) -> _Consumer:
    if params.operation == "aggregate":
        return _Aggregator(params, schema, limits)
    if params.operation == "convert":
        return _Converter(params, schema, artifact)
    return _Profiler(schema, limits)
