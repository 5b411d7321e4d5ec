"""Group-by aggregation in bounded memory: partial aggregates per batch, merged as they come.

Memory grows with the number of groups, not rows; past the cap the job fails rather than
exhausting the worker.
"""

from __future__ import annotations

import functools
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from workers.files.errors import FileJobError

# How each metric's partial results merge: a count or sum adds up, a min stays a min...
_PARTIALS = {"count": "sum", "sum": "sum", "min": "min", "max": "max"}
# A sum over no values is 0, as pandas' (Arrow's default is null).
_SUM_OF_NOTHING = pc.ScalarAggregateOptions(skip_nulls=True, min_count=0)


class Aggregation:
    """Running `group_by` + `metrics` over record batches."""

    def __init__(
        self,
        group_by: list[str],
        metrics: dict[str, list[str]],
        max_groups: int,
        dropna: bool = True,
        min_count: int = 0,
    ) -> None:
        self.group_by, self.metrics, self.max_groups = group_by, metrics, max_groups
        #: pandas' groupby defaults: rows with a missing key are dropped; a sum over no
        #: values is 0 (`min_count=0`; a larger `min_count` makes sums over fewer values null).
        self.dropna, self.min_count = dropna, min_count
        self.partial: pa.Table | None = None
        self.rows = 0

    def check_columns(self, schema: pa.Schema) -> None:
        missing = [c for c in [*self.group_by, *self.metrics] if schema.get_field_index(c) < 0]
        if missing:
            raise FileJobError(
                "unknown_column",
                f"No column named {', '.join(map(repr, missing))}; the file has "
                f"{_listed(schema.names)}.",
            )

    def _partial_specs(self) -> list[tuple[str, str]]:
        specs: set[tuple[str, str]] = set()
        for column, wanted in self.metrics.items():
            for metric in wanted:
                # A mean is merged from its sum and count.
                # A mean is merged from its sum and count; a sum needs its count for min_count.
                specs.update(
                    [(column, "sum"), (column, "count")]
                    if metric in ("mean", "sum")
                    else [(column, metric)]
                )
        return sorted(specs)

    def update(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        specs: list[Any] = [
            (c, m, _SUM_OF_NOTHING) if m == "sum" else (c, m) for c, m in self._partial_specs()
        ]
        table = pa.Table.from_batches([batch])
        if self.dropna and self.group_by:
            keys = [pc.is_valid(table[c]) for c in self.group_by]
            table = table.filter(functools.reduce(pc.and_, keys))
        try:
            part = table.group_by(self.group_by).aggregate(specs or [([], "count_all")])
        except (pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise FileJobError(
                "unsupported_metric", f"A metric does not apply to its column: {exc}"
            ) from exc
        self.partial = part if self.partial is None else self._merge(part)
        if self.partial.num_rows > self.max_groups:
            raise FileJobError("too_many_groups", f"More than {self.max_groups} groups.")

    def _merge(self, part: pa.Table) -> pa.Table:
        assert self.partial is not None
        both = pa.concat_tables([self.partial, part], promote_options="permissive")
        names = [n for n in both.column_names if n not in self.group_by]
        specs: list[Any] = []
        for n in names:
            metric = "sum" if n == "count_all" else _PARTIALS[n.rsplit("_", 1)[1]]
            specs.append((n, metric, _SUM_OF_NOTHING) if metric == "sum" else (n, metric))
        merged = both.group_by(self.group_by).aggregate(specs)
        return merged.rename_columns([_strip(n) for n in merged.column_names])

    def result(self, limit: int = 10_000) -> dict[str, Any]:
        table = self.partial if self.partial is not None else pa.table({})
        out = {c: table[c] for c in self.group_by if c in table.column_names}
        for column, wanted in self.metrics.items():
            for metric in wanted:
                out[f"{column}_{metric}"] = self._metric(table, column, metric)
        if not self.metrics and "count_all" in table.column_names:
            out["count"] = table["count_all"]
        result = pa.table(out)
        if self.group_by:
            result = result.sort_by([(c, "ascending") for c in self.group_by])
        return {
            "rows": self.rows,
            "groups": result.num_rows,
            "truncated": result.num_rows > limit,
            "table": result.slice(0, limit).to_pylist(),
        }

    def _metric(self, table: pa.Table, column: str, metric: str) -> Any:
        count = table[f"{column}_count"] if metric in ("mean", "sum") else None
        if metric == "mean":
            # No values: null, as pandas' NaN (not 0/0).
            total = pc.cast(table[f"{column}_sum"], pa.float64())
            return pc.if_else(pc.greater(count, 0), pc.divide(total, count), None)
        if metric == "sum":
            return pc.if_else(pc.greater_equal(count, self.min_count), table[f"{column}_sum"], None)
        return table[f"{column}_{metric}"]


def _strip(name: str) -> str:
    """`x_sum_sum` -> `x_sum`: a merged partial keeps its original name."""
    base, _, _ = name.rpartition("_")
    return base if base else name


def _listed(names: list[str], most: int = 20) -> str:
    """The file's column names for an error message, the first `most` of them."""
    shown = ", ".join(map(repr, names[:most]))
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")
