"""Readable tables for jobs and their results."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Column, Table

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


def id_column() -> Column:
    """An id is copied from a table into the next command: never cut, whatever the width."""
    return Column("id", no_wrap=True, min_width=26)


def whole_table(*headers: str | Column, **options: Any) -> Table:
    """A table that hides no value: in a narrow terminal a cell goes on over more lines instead
    of ending in "…" (a price, a status, a file name)."""
    table = Table(*headers, **options)
    for column in table.columns:
        if not column.no_wrap:
            column.overflow = "fold"
    return table


def said_if_empty(table: Table, empty: str | None) -> Table:
    """`table`, with `empty` under it when it has no rows (a header alone read as if cut off)."""
    if not table.rows:
        table.caption = empty
    return table


def job_table(jobs: Iterable[Job], empty: str | None = None) -> Table:
    table = whole_table(id_column(), "status", "operation", "file", "size", "percent")
    for job in jobs:
        percent = f"{job.progress.percent:.0f}%" if job.progress is not None else ""
        table.add_row(
            job.id, job.status, job.operation, job.filename, human_bytes(job.size), percent
        )
    return said_if_empty(table, empty)


def cancelled_line(job: Job) -> str:
    """What a cancelled job did before it stopped (it keeps no result)."""
    if job.started_at is None or job.progress is None:
        return "cancelled before it started; it has no result"
    return f"cancelled after {job.progress.rows:,} rows; a cancelled job keeps no result"


def result_json(job_id: str, result: JobResult) -> dict[str, Any]:
    """A result as `--json` prints it: with its job's id, which a script needs next (`jobcast
    jobs download ID PATH`) and without which a saved answer does not say whose it is."""
    return {"job_id": job_id, **result.model_dump(mode="json", by_alias=True)}


def result_tables(result: JobResult, width: int | None = None) -> list[Table]:
    """The result's tables, none wider than `width` where it can be helped."""
    head = whole_table(
        "rows", "format", "bytes read", "seconds", title=f"{result.operation} result"
    )
    head.add_row(
        f"{result.rows:,}",
        result.format,
        human_bytes(result.bytes_read),
        f"{result.duration_seconds:.2f}",
    )
    if isinstance(result, ProfileResult):
        return [head, *_profile(result, width)]
    if isinstance(result, AggregateResult):
        return [head, _aggregate(result)]
    assert isinstance(result, ConvertResult)
    out = whole_table("format", "bytes", title="artifact (jobcast jobs download ID PATH)")
    out.add_row(result.artifact_format, human_bytes(result.artifact_bytes))
    return [head, out]


def _profile(result: ProfileResult, width: int | None) -> list[Table]:
    """One table; in a terminal too narrow for it, two (counts, then values), so that numbers
    are not folded mid-digit (`3.488e-` over `07`) and no column is left off."""
    counts = ("column", "type", "count", "nulls", "distinct")
    values = ("column", "mean", "min", "max")
    rows = [_profile_row(c) for c in result.profile]
    whole = _table_of(rows, (*counts, *values[1:]))
    # Measured unconstrained: a console of `width` reports at most `width`.
    if width is None or Console(width=10_000).measure(whole).maximum <= width:
        return [whole]
    return [_table_of(rows, counts), _table_of(rows, values)]


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


def _table_of(rows: list[dict[str, str]], headers: tuple[str, ...]) -> Table:
    table = whole_table(*headers)
    for row in rows:
        table.add_row(*(row[h] for h in headers))
    return table


def _aggregate(result: AggregateResult) -> Table:
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
    table = whole_table(*(rows[0].keys() if rows else ()), title=title)
    for row in rows:
        table.add_row(*(_stat(v) for v in row.values()))
    return table


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
