"""Readable tables for jobs and their results."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from jobcast.client_cli.fitting import MEASURING, Cell, Field, fitted_record, fitted_table
from jobcast.schemas import (
    AggregateResult,
    ColumnProfile,
    ConvertResult,
    Job,
    JobResult,
    ProfileResult,
)

#: A datetime of a profile (ISO 8601: `2024-05-01T12:00:00`), shown as an aggregate's are
#: (`2024-05-01 12:00:00`), so the two read alike.
ISO_DATETIME = re.compile(r"(-?\d{4,}-\d\d-\d\d)T(?=\d\d:\d\d)")

#: Rows of an aggregate table shown in the terminal (`--json` has them all).
SHOWN_GROUPS = 20


#: A job's columns, the last needed left out first in a narrow terminal.
JOB_FIELDS = (
    Field("id"),  # copied into the next command: never cut, never left out
    Field("status"),
    Field("operation", drop=3),
    Field("file", text=True, drop=1),
    Field("size", justify="right", drop=4),
    Field("percent", justify="right", drop=2),
)


def said_if_empty(table: Table, empty: str | None) -> Table:
    """`table`, with `empty` under it when it has no rows (a header alone read as if cut off)."""
    if not table.rows:
        table.caption = empty
    return table


def job_table(jobs: Iterable[Job], width: int | None) -> Table:
    return fitted_table(JOB_FIELDS, [_job_row(job) for job in jobs], width)


def job_record(job: Job, width: int | None) -> Table:
    """One job (`jobs show`): a field a line on a terminal, the one-row table piped."""
    return fitted_record(JOB_FIELDS, _job_row(job), width)


def _job_row(job: Job) -> list[Cell]:
    return [
        job.id,
        job.status,
        job.operation,
        Text(job.filename),
        human_bytes(job.size),
        _percent(job),
    ]


def _percent(job: Job) -> str:
    return f"{job.progress.percent:.0f}%" if job.progress is not None else ""


def cancelled_line(job: Job) -> str:
    """What a cancelled job did before it stopped (it keeps no result)."""
    if job.started_at is None or job.progress is None:
        return "cancelled before it started; it has no result"
    return f"cancelled after {job.progress.rows:,} rows; a cancelled job keeps no result"


def result_json(job_id: str, result: JobResult) -> dict[str, Any]:
    """A result as `--json` prints it: with its job's id, which a script needs next (`jobcast
    jobs download ID PATH`) and without which a saved answer does not say whose it is."""
    return {"job_id": job_id, **result.model_dump(mode="json", by_alias=True)}


def result_tables(result: JobResult, width: int | None) -> list[Table]:
    """The result's tables, fitted to `width` (None: piped, every value whole)."""
    head = fitted_table(
        [Field("rows"), Field("format"), Field("bytes read"), Field("seconds")],
        [
            [
                f"{result.rows:,}",
                result.format,
                human_bytes(result.bytes_read),
                f"{result.duration_seconds:.2f}",
            ]
        ],
        width,
        title=f"{result.operation} result",
    )
    if isinstance(result, ProfileResult):
        return [head, *_profile(result, width)]
    if isinstance(result, AggregateResult):
        return [head, _aggregate(result, width)]
    assert isinstance(result, ConvertResult)
    artifact = [[result.artifact_format, human_bytes(result.artifact_bytes)]]
    title = "artifact (jobcast jobs download ID PATH)"
    return [head, fitted_table([Field("format"), Field("bytes")], artifact, width, title=title)]


#: A profile's columns: its counts, then its values, the mean left out first when even one of
#: the two does not fit.
COUNT_FIELDS = (
    Field("column", text=True),
    Field("type"),
    *map(Field, ("count", "nulls", "distinct")),
)
VALUE_FIELDS = (Field("column", text=True), Field("mean", drop=1), Field("min"), Field("max"))


def _profile(result: ProfileResult, width: int | None) -> list[Table]:
    """One table; in a terminal too narrow for it, two (counts, then values), so that numbers
    are not folded mid-digit (`3.488e-` over `07`) and no column is left off."""
    rows = [_profile_row(c) for c in result.profile]
    fields = (*COUNT_FIELDS, *VALUE_FIELDS[1:])
    whole = _table_of(rows, fields, None)
    if width is None or MEASURING.measure(whole).maximum <= width:
        return [whole]
    return [_table_of(rows, COUNT_FIELDS, width), _table_of(rows, VALUE_FIELDS, width)]


def _profile_row(c: ColumnProfile) -> dict[str, str]:
    stats: list[Any] = [c.mean, c.min, c.max]
    if c.type == "datetime":
        stats = [ISO_DATETIME.sub(r"\1 ", s) if isinstance(s, str) else s for s in stats]
    mean, least, most = map(_stat, stats)
    return {
        "column": c.name,
        "type": c.type,
        "count": f"{c.count:,}",
        "nulls": f"{c.nulls:,}",
        # `~`: counted by a sketch past the exact limit (`distinct_exact` false), as flagged in
        # the result; shown bare it read as exact.
        "distinct": f"{c.distinct:,}" if c.distinct_exact else f"~{c.distinct:,}",
        "mean": mean,
        "min": least,
        "max": most,
    }


def _table_of(rows: list[dict[str, str]], fields: Sequence[Field], width: int | None) -> Table:
    cells = [[Text(row[f.header]) if f.text else row[f.header] for f in fields] for row in rows]
    return fitted_table(fields, cells, width)


def _aggregate(result: AggregateResult, width: int | None) -> Table:
    rows = result.table[:SHOWN_GROUPS]
    title = f"{result.groups:,} groups"
    if len(rows) < result.groups:
        # Say what is left out: the terminal shows the first few, the result the first 10,000.
        if result.truncated:
            title += (
                f" (first {len(rows):,} shown; the result keeps the first "
                f"{len(result.table):,} by key: --json prints them)"
            )
        else:
            title += f" (first {len(rows):,} shown: --json prints all)"
    headers = list(rows[0]) if rows else []
    fields = [_aggregate_field(i, h, rows) for i, h in enumerate(headers)]
    cells = [
        [_aggregate_cell(row[h], f) for h, f in zip(headers, fields, strict=True)] for row in rows
    ]
    return fitted_table(fields, cells, width, title=title)


def _aggregate_field(index: int, header: str, rows: list[dict[str, Any]]) -> Field:
    """A column of numbers is kept whole, and left out (the rightmost first) when the table does
    not fit; the group's keys before them are text, and stay. The first column always does."""
    numbers = all(isinstance(row[header], int | float | None) for row in rows)
    if not numbers:
        return Field(header, text=True)
    return Field(header, drop=index)


def _aggregate_cell(value: Any, field: Field) -> RenderableType:
    return Text(_stat(value)) if field.text else _stat(value)


def _stat(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        # Thousands grouped, up to 4 decimals; tiny and huge numbers in scientific notation.
        if value != 0 and not 1e-3 <= abs(value) < 1e15:
            return f"{value:.4g}"
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return str(value)


def human_bytes(n: int) -> str:
    # Counted in 1024s, so named in the binary units: "2.0 GB" for 2 GiB read 7% short.
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
