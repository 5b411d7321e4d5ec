"""Run one file job end to end on a stored file: pure, no Redis and no Celery.

The task supplies two hooks: `should_stop` (checked between batches, for cancel) and `progress`
(called after every batch; the task decides how often to publish).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from jobcast.jobs.params import JobParams
from workers.files.aggregate import Aggregation
from workers.files.column_types import scan_json_types, scan_types
from workers.files.convert import ArtifactWriter
from workers.files.decoded import DecodedBudget
from workers.files.errors import FileJobError, no_rows
from workers.files.file_format import FileFormat
from workers.files.profile import TableProfile
from workers.files.readers import BatchSource, ReadLimits, detected_format, open_batches

#: Resident memory of a worker process before it holds any data, plus what any job costs beyond
#: its data. Measured on Linux x86-64 (2026-12-02): a pool process is 82 MiB idle (105 MiB
#: since the main process imports pandas before the fork, `workers/gc_baseline.py`) and 155-160
#: MiB once a first file job has paged in pyarrow's readers and kernels; a 1 GiB CSV profile at a
#: 256 MiB budget (16 MiB for data) peaks near 190 MiB (samples, sketches, allocator slack).
#: The memory budget is for the whole process, so this comes off it.
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
    max_decompression_ratio: int = 200
    max_cell_bytes: int = 256 * 1024
    max_json_depth: int = 64
    #: Bytes the job may decode in all, and per byte of the stored file (`decoded.py`).
    max_decoded: int = 8 * 1024**3
    max_decoded_ratio: int = 1000

    @property
    def data_budget(self) -> int:
        """What the job's data may use: the budget less the process's own footprint."""
        return max(MIN_DATA_BUDGET, self.memory_budget - PROCESS_BASELINE)

    def read_limits(
        self, column_types: dict[str, Any], sheet: str | int | None = None, keep_index: bool = False
    ) -> ReadLimits:
        # A block is a small slice of the data budget: a batch's arrays and temporaries are
        # several times the bytes of text they were parsed from.
        block = max(64 * 1024, min(self.batch_bytes, self.data_budget // 16))
        return ReadLimits(
            block,
            self.max_decompressed,
            self.max_columns,
            column_types,
            sheet_budget=self.data_budget // 2,
            sheet=sheet,
            max_decompression_ratio=self.max_decompression_ratio,
            max_cell_bytes=self.max_cell_bytes,
            max_json_depth=self.max_json_depth,
            keep_index=keep_index,
        )


@dataclass(frozen=True)
class Progress:
    phase: str
    bytes_done: int
    bytes_total: int
    rows: int
    percent: float
    eta_seconds: float | None
    #: The last progress of the job: every row is read (publish it, whatever the throttle says).
    final: bool = False


@dataclass
class Hooks:
    should_stop: Callable[[], bool] = lambda: False
    progress: Callable[[Progress], None] = lambda _: None
    #: Told the converted file's size as it grows; raises (FileJobError) to stop the job.
    artifact_grew: Callable[[int], None] = lambda _: None
    started: float = field(default_factory=time.monotonic)


class JobStopped(Exception):
    """`should_stop` said so at a batch boundary (the job was cancelled); `progress` is how far
    it got, throttled or not (the record keeps it with the outcome)."""

    def __init__(self, progress: Progress) -> None:
        super().__init__(f"stopped after {progress.rows} rows")
        self.progress = progress


def run_job(
    path: Path, params: JobParams, limits: JobLimits, hooks: Hooks, artifact: Path
) -> dict[str, Any]:
    """The job's result; FileJobError for a bad input, JobStopped when cancelled."""
    fmt = detected_format(path, params, limits.read_limits({}))
    initial_types: dict[str, Any] = dict.fromkeys(fmt.text_columns, pa.string())
    column_types = initial_types
    last_value_kept = False
    while True:
        read = limits.read_limits(column_types, params.sheet, params.operation != "profile")
        read = replace(read, last_value_kept=last_value_kept)
        try:
            result = _run_once(path, fmt, params, limits, read, hooks, artifact)
        except FileJobError as exc:
            if exc.code == "uneven_rows" and fmt.kind == "csv" and not fmt.pad_rows:
                fmt = replace(fmt, pad_rows=True)  # short rows get nulls, as in pandas
            elif exc.code == "blank_line":
                # Such a line past the sample, skipped once the rows are rewritten: types a
                # scan gave meanwhile counted its spaces as a value (a column of numbers, text).
                fmt, column_types = replace(fmt, pad_rows=True), initial_types
            elif exc.code == "repeated_key" and not last_value_kept:
                last_value_kept = True  # a repeated key's last value, as pandas reads it
            elif exc.code == "repeated_key":  # a line Python could not write again either
                raise FileJobError("invalid_json", exc.message) from exc
            elif exc.code == "column_type_changed":
                column_types = _retyped(path, fmt, read, column_types, exc)
            elif exc.code == "invalid_json" and fmt.kind == "jsonl" and not column_types:
                # pyarrow counts rows from 0 within a block: the scan names the file's line.
                scan_json_types(path, fmt, read)
                raise
            else:
                raise
        else:
            return result


def _retyped(
    path: Path, fmt: FileFormat, read: ReadLimits, column_types: dict[str, Any], exc: FileJobError
) -> dict[str, Any]:
    """Types for the next read: from all values on the first break; then text for a CSV column
    whose scanned type still broke (pyarrow converts more strictly than the scan judged)."""
    if fmt.kind == "jsonl":
        # The scan fails at a line mixing kinds in a field; nested fields are left to pyarrow.
        types = {} if column_types else scan_json_types(path, fmt, read)
        if not types:  # typed already, or nothing to type: reading again would break as well
            raise FileJobError("invalid_json", exc.message)
        return types
    if fmt.kind != "csv" or exc.column is None:
        raise FileJobError("unreadable_file", exc.message)
    if set(column_types) <= set(fmt.text_columns):
        return {**scan_types(path, fmt, read), **column_types}
    name = fmt.names[exc.column]
    if pa.types.is_string(column_types.get(name, pa.null())):
        raise FileJobError("unreadable_file", f"Column {name!r} could not be read as text.")
    return {**column_types, name: pa.string()}


def _run_once(
    path: Path,
    fmt: FileFormat,
    params: JobParams,
    limits: JobLimits,
    read: ReadLimits,
    hooks: Hooks,
    artifact: Path,
) -> dict[str, Any]:
    source = open_batches(path, fmt, read)
    try:
        consumer = _consumer(params, source.schema, limits, artifact, hooks)
    except BaseException:
        source.close()
        raise
    meter = ProgressMeter(source, hooks)
    budget = DecodedBudget(source.total_bytes, limits.max_decoded, limits.max_decoded_ratio)
    try:
        for batch in source.batches:
            if hooks.should_stop():
                raise JobStopped(meter.last)
            budget.spend(batch)  # before the batch is worked on: a bomb costs no more
            consumer.update(batch)
            meter.consumed(batch.num_rows)
    except BaseException:
        consumer.abort()
        raise
    finally:
        source.close()
    if meter.rows == 0:
        consumer.abort()
        raise no_rows(fmt.kind)
    meter.finished()
    return {
        "operation": params.operation,
        "format": fmt.name,
        "bytes_read": source.total_bytes,
        "encoding": fmt.encoding,
        **consumer.result(),
    }


class ProgressMeter:
    """Progress from the stored bytes behind the batches *processed* (not those read ahead).

    `percent` is 0 at the start, grows with them to at most SCAN_PERCENT, and is FINAL_PERCENT
    once every row is read and the result is being made; 100 is the terminal event's.
    """

    SCAN_PERCENT = 99.0
    FINAL_PERCENT = 99.9

    def __init__(self, source: BatchSource, hooks: Hooks) -> None:
        self.source, self.hooks = source, hooks
        self.batches = self.rows = 0
        self.last = Progress("scan", 0, source.total_bytes, 0, 0.0, None)
        hooks.progress(self.last)

    def consumed(self, rows: int) -> None:
        self.batches, self.rows = self.batches + 1, self.rows + rows
        done, total = self.source.processed(self.batches, self.rows), self.source.total_bytes
        fraction = min(1.0, done / max(1, total))
        elapsed = time.monotonic() - self.hooks.started
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else None
        percent = round(self.SCAN_PERCENT * fraction, 1)
        self.last = Progress(
            "scan", done, total, self.rows, percent, None if eta is None else round(eta, 1)
        )
        self.hooks.progress(self.last)

    def finished(self) -> None:
        total = self.source.total_bytes
        final = Progress("summarize", total, total, self.rows, self.FINAL_PERCENT, 0.0)
        self.hooks.progress(replace(final, final=True))


class _Consumer:
    def update(self, batch: pa.RecordBatch) -> None: ...
    def result(self) -> dict[str, Any]:
        raise NotImplementedError

    def abort(self) -> None:
        """Drop partial output; nothing to do for consumers that write none."""


class _Profiler(_Consumer):
    def __init__(self, schema: pa.Schema, limits: JobLimits) -> None:
        # A quarter of the data budget may hold values for exact quantiles (sorted in place at
        # the end).
        self.profile = TableProfile(schema, limits.distinct_limit, limits.data_budget // 4)

    def update(self, batch: pa.RecordBatch) -> None:
        self.profile.update(batch)

    def result(self) -> dict[str, Any]:
        return self.profile.summary()


class _Aggregator(_Consumer):
    def __init__(self, params: JobParams, schema: pa.Schema, limits: JobLimits) -> None:
        metrics: dict[str, list[str]] = {k: list(v) for k, v in params.metrics.items()}
        self.agg = Aggregation(
            params.group_by,
            metrics,
            limits.max_groups,
            dropna=params.dropna,
            min_count=params.min_count,
        )
        self.agg.check_columns(schema)

    def update(self, batch: pa.RecordBatch) -> None:
        self.agg.update(batch)

    def result(self) -> dict[str, Any]:
        return self.agg.result()


class _Converter(_Consumer):
    def __init__(
        self, params: JobParams, schema: pa.Schema, artifact: Path, grew: Callable[[int], None]
    ) -> None:
        self.writer = ArtifactWriter(artifact, params.to or "parquet", schema)
        self.rows, self.columns = 0, len(schema)
        self.grew = grew

    def update(self, batch: pa.RecordBatch) -> None:
        self.writer.write(batch)
        self.rows += batch.num_rows
        # A small upload can convert to a huge file (a compressed Parquet of repeated values
        # became 412 MB of CSV from 52 KB): its size is checked as it is written.
        self.grew(self.writer.size())

    def result(self) -> dict[str, Any]:
        size = self.writer.finish()
        return {
            "rows": self.rows,
            "columns": self.columns,
            "artifact_bytes": size,
            "artifact_format": self.writer.to,
        }

    def abort(self) -> None:
        self.writer.abort()


def _consumer(
    params: JobParams, schema: pa.Schema, limits: JobLimits, artifact: Path, hooks: Hooks
) -> _Consumer:
    if params.operation == "aggregate":
        return _Aggregator(params, schema, limits)
    if params.operation == "convert":
        return _Converter(params, schema, artifact, hooks.artifact_grew)
    return _Profiler(schema, limits)
