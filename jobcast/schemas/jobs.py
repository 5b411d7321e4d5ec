"""Response models of the file-jobs routes (`/jobs`): the job, its progress and its results.

The result models describe what `workers/files/` computes (profile, aggregate, convert) plus the
timing the task adds; a result's `operation` says which one it is.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from jobcast.jobs.params import JobParams
from jobcast.schemas.open_values import Open

JobStatus = Literal[
    "queued", "running", "retrying", "cancelling", "succeeded", "failed", "cancelled"
]
Operation = Literal["profile", "aggregate", "convert"]
ColumnType = Literal["integer", "float", "boolean", "datetime", "time", "string", "other"]
ArtifactFormat = Literal["parquet", "csv"]
#: A statistic of a numeric column: int or float; of a datetime column: ISO 8601 text.
Stat = int | float | str | None


class JobProgress(BaseModel):
    phase: str = Field(description="What the worker is doing, e.g. `scan`.")
    bytes_done: int
    bytes_total: int
    rows: int = Field(description="Rows processed so far.")
    percent: float = Field(description="0 to 100.")
    eta_seconds: float | None = Field(
        description="Estimated seconds left; null before known, while the job waits to retry "
        "and once it failed or was cancelled (0 once it succeeded)."
    )


class JobError(BaseModel):
    """Why a job failed (or, while `retrying`, why it runs again: a transient error, a
    quarantine); null in any other status."""

    code: str = Field(description="e.g. `ragged_rows`, `unknown_column`, `time_limit`.")
    message: str


class JobLinks(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    self_: str = Field(alias="self")
    result: str
    artifact: str | None = Field(
        description="The converted file: only a `convert` job has one; null for the others."
    )


_JOB_EXAMPLE: JsonDict = {
    "id": "j_6f1c0e6b2f9d4a7c8e3b5a10",
    "status": "running",
    "operation": "profile",
    "params": {"operation": "profile", "group_by": [], "metrics": {}, "to": None},
    "filename": "sales.csv",
    "size": 52428800,
    "attempt": 1,
    "progress": {
        "phase": "scan",
        "bytes_done": 20971520,
        "bytes_total": 52428800,
        "rows": 401233,
        "percent": 40.0,
        "eta_seconds": 3.1,
    },
    "error": None,
    "created_at": 1764633600.125,
    "started_at": 1764633600.412,
    "finished_at": None,
    "links": {
        "self": "/jobs/j_6f1c0e6b2f9d4a7c8e3b5a10",
        "result": "/jobs/j_6f1c0e6b2f9d4a7c8e3b5a10/result",
        "artifact": None,
    },
}


class Job(BaseModel):
    """A file job as its owner sees it (`GET /jobs/{id}`); the result is read separately."""

    model_config = ConfigDict(json_schema_extra={"examples": [_JOB_EXAMPLE]})

    id: str
    status: Open[JobStatus]
    operation: Operation
    params: JobParams
    filename: str = Field(
        description="The uploaded part's file name, as sent, less control and bidi characters."
    )
    size: int = Field(description="Bytes uploaded.")
    attempt: int = Field(description="Deliveries to a worker so far (0 while queued).")
    progress: JobProgress | None
    error: JobError | None
    created_at: float = Field(description="Unix time, seconds.")
    started_at: float | None
    finished_at: float | None
    links: JobLinks


class JobPage(BaseModel):
    items: list[Job] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class TopValue(BaseModel):
    value: Any
    count: int


class Histogram(BaseModel):
    edges: list[Stat] = Field(
        description=(
            "Bin edges, one more than the counts: 21, min to max (2 when every value is equal);"
            " an integer column's are whole numbers, up to 21, from min, and the last may pass"
            " max, so that each bin holds as many integers."
        )
    )
    counts: list[int]
    exact: bool = Field(description="False when the counts are scaled from a sample.")


_DECIMAL_VALUE = (
    "Of a decimal column, its value exactly, as an aggregate writes one: a whole-number decimal"
    " (`decimal(20, 0)`) an integer with every digit, others the float whose shortest text is"
    " the decimal (exact to 15 significant digits)."
)
_DECIMAL_QUANTILE = (
    "Of a decimal column of at most 15 digits, exact (interpolated in decimal, written as `min`);"
    " of a wider one, a float (within an ulp of the nearest)."
)


class ColumnProfile(BaseModel):
    """One column's summary. The numeric fields are present only for a numeric, datetime or
    time-of-day column with at least one value."""

    model_config = ConfigDict(populate_by_name=True)

    name: str
    type: Open[ColumnType]
    count: int = Field(description="Values present.")
    nulls: int
    distinct: int
    distinct_exact: bool
    top: list[TopValue] | None = Field(description="Most frequent values; null when not tracked.")
    top_exact: bool
    freq: int | None = Field(description="Count of the most frequent value.")
    mean: Stat = Field(
        default=None, description="A float, also for a decimal column (its nearest float64)."
    )
    std: float | None = None
    min: Stat = Field(default=None, description=_DECIMAL_VALUE)
    q25: Stat = Field(default=None, alias="25%", description=_DECIMAL_QUANTILE)
    q50: Stat = Field(default=None, alias="50%", description=_DECIMAL_QUANTILE)
    q75: Stat = Field(default=None, alias="75%", description=_DECIMAL_QUANTILE)
    max: Stat = Field(default=None, description=_DECIMAL_VALUE)
    quantiles_exact: bool | None = None
    histogram: Histogram | None = None


class _ResultBase(BaseModel):
    format: str = Field(
        description="Detected input format, `csv`, `tsv`, `jsonl`, `parquet` or `spreadsheet`, "
        "with `.gz` when gzipped."
    )
    encoding: str | None = Field(
        default=None, description="Text encoding read (detected or given); null for binary formats."
    )
    bytes_read: int
    rows: int
    duration_seconds: float
    cpu_seconds: float
    peak_rss_bytes: int = Field(
        description="The worker process's peak resident memory during this job."
    )


class ProfileResult(_ResultBase):
    operation: Literal["profile"]
    columns: int
    profile: list[ColumnProfile]


class AggregateResult(_ResultBase):
    operation: Literal["aggregate"]
    groups: int
    truncated: bool = Field(description="True when `table` stops at the first 10,000 groups.")
    table: list[dict[str, Any]] = Field(
        description="One row per group: the `group_by` columns, then `<column>_<metric>`."
    )


class ConvertResult(_ResultBase):
    operation: Literal["convert"]
    columns: int
    artifact_bytes: int
    artifact_format: Open[ArtifactFormat] = Field(description="Download: `/jobs/{id}/artifact`.")


JobResult = Annotated[
    ProfileResult | AggregateResult | ConvertResult, Field(discriminator="operation")
]


class JobWithResult(Job):
    """The seed's `GET /tasks/{task_id}`: the job with its result inline (null until it ends)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{**_JOB_EXAMPLE, "result": None}]})

    result: JobResult | None
