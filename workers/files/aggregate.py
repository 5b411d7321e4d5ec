"""Group-by aggregation in bounded memory: partial aggregates per batch, merged as they come.

Memory grows with the number of groups, not rows; past the cap the job fails rather than
exhausting the worker.
"""

from __future__ import annotations

import functools
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from workers.files.cell_text import plain_cell_schema, plain_cells
from workers.files.datetimes import column_texts, time_unit
from workers.files.decimals import decimal_number
from workers.files.errors import FileJobError, listed
from workers.files.sketches import is_text

# How each metric's partial results merge: a count or sum adds up, a min stays a min...
_PARTIALS = {"count": "sum", "sum": "sum", "min": "min", "max": "max"}
# A sum over no values is 0, as pandas' (Arrow's default is null).
_SUM_OF_NOTHING = pc.ScalarAggregateOptions(skip_nulls=True, min_count=0)
#: Integers are summed as 38-digit decimals: Arrow's int64 and uint64 sums wrap past 64 bits
#: without a word (pandas' too: two 2^63 - 1 sum to -2), and a mean over 2^53 would not cast
#: to float64. 10^38 holds the sum of 10^18 values of any 64-bit integer, exactly.
_EXACT_SUM = pa.decimal128(38, 0)
#: Groups whose exact mean is worked out at once (`_exact_means`).
_MEAN_SLICE = 65_536
#: What each metric needs of its column, for the owner told it does not apply.
_APPLIES_TO = {
    "sum": "numbers or true/false values",
    "mean": "numbers or true/false values",
    "min": "numbers, text, dates or true/false values",
    "max": "numbers, text, dates or true/false values",
    "count": "any column",
}


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
        self.summed = {c for c, wanted in metrics.items() if {"sum", "mean"} & set(wanted)}
        self.partial: pa.Table | None = None
        self.rows = 0
        #: Each categorical key's categories in their order (a Parquet file's pandas
        #: categoricals), as first seen: pandas sorts such a key's groups by it, not by value.
        self.categories: dict[str, list[Any]] = {}

    def check_columns(self, schema: pa.Schema) -> None:
        """unknown_column or unsupported_metric before a row is read: the schema decides."""
        missing = [c for c in [*self.group_by, *self.metrics] if schema.get_field_index(c) < 0]
        if missing:
            named = "No column named" if len(missing) == 1 else "No columns named"
            raise FileJobError(
                "unknown_column",
                f"{named} {', '.join(map(repr, missing))}; the file has {listed(schema.names)}.",
            )
        # Arrow's kernels decide what applies: tried on no rows, the owner is told in their words.
        empty = self._prepared(schema.empty_table())
        for column in self.group_by:
            if not _applies(empty, [column], [([], "count_all")]):
                raise _not_a_key(column, schema.field(column).type)
        for column, wanted in self.metrics.items():
            for metric in wanted:
                if not _applies(empty, self.group_by, _specs(_partials(column, metric))):
                    raise _not_applicable(column, schema.field(column).type, metric)

    def _partial_specs(self) -> list[tuple[str, str]]:
        specs = {p for c, wanted in self.metrics.items() for m in wanted for p in _partials(c, m)}
        return sorted(specs)

    def update(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        specs = _specs(self._partial_specs())
        self._note_categories(batch)
        table = self._prepared(pa.Table.from_batches([batch]))
        if self.dropna and self.group_by:
            keys = [pc.is_valid(table[c]) for c in self.group_by]
            table = table.filter(functools.reduce(pc.and_, keys))
        try:
            part = table.group_by(self.group_by).aggregate(specs or [([], "count_all")])
        except (pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            # Not expected past check_columns; pyarrow's text stays in the log.
            raise FileJobError(
                "unsupported_metric", "A metric does not apply to the type of its column."
            ) from exc
        self.partial = part if self.partial is None else self._merge(part)
        if self.partial.num_rows > self.max_groups:
            raise FileJobError("too_many_groups", f"More than {self.max_groups} groups.")

    def _prepared(self, table: pa.Table) -> pa.Table:
        return _exact_sums(_plain(table), self.summed)

    def _note_categories(self, batch: pa.RecordBatch) -> None:
        for name in self.group_by:
            column = batch.column(name)
            if pa.types.is_dictionary(column.type):
                known = self.categories.setdefault(name, [])
                seen = set(known)
                known.extend(v for v in column.dictionary.to_pylist() if v not in seen)

    def _sorted(self, result: pa.Table) -> pa.Table:
        """By key, as pandas' groupby sorts: a categorical key by its categories' order."""
        order = []
        for i, name in enumerate(self.group_by):
            if name not in self.categories:
                order.append((name, "ascending"))
                continue
            categories = pa.array(self.categories[name], result.schema.field(name).type)
            position = pc.index_in(result[name], value_set=categories)
            result = result.append_column(f"__order_{i}", position)
            order.append((f"__order_{i}", "ascending"))
        ordered = result.sort_by(order)
        return ordered.select([n for n in ordered.column_names if not n.startswith("__order_")])

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
            result = self._sorted(result)
        return {
            "rows": self.rows,
            "groups": result.num_rows,
            "truncated": result.num_rows > limit,
            "table": _rows(result.slice(0, limit)),
        }

    def _metric(self, table: pa.Table, column: str, metric: str) -> Any:
        count = table[f"{column}_count"] if metric in ("mean", "sum") else None
        if metric == "mean":
            total = table[f"{column}_sum"]
            if total.type == _EXACT_SUM:
                return _exact_means(total, count)
            # No values: null, as pandas' NaN (not 0/0).
            total = pc.cast(total, pa.float64())
            return pc.if_else(pc.greater(count, 0), pc.divide(total, count), None)
        if metric == "sum":
            return pc.if_else(pc.greater_equal(count, self.min_count), table[f"{column}_sum"], None)
        return table[f"{column}_{metric}"]


def _plain(table: pa.Table) -> pa.Table:
    """Dictionary-encoded columns (a Parquet file's pandas categoricals) as their values, as a
    CSV of the same table reads: Arrow groups by them but cannot sort or merge them (each
    batch has its own dictionary), and pandas groups a categorical by its values."""
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table[i].cast(field.type.value_type))
    return table


def _exact_sums(table: pa.Table, summed: set[str]) -> pa.Table:
    """The integer columns of `summed` as `_EXACT_SUM` decimals; a key or a min among them
    comes back the same integer (`_decimal_numbers`)."""
    for i, field in enumerate(table.schema):
        if field.name in summed and pa.types.is_integer(field.type):
            table = table.set_column(i, field.name, table[i].cast(_EXACT_SUM))
    return table


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    """The result's rows; a date column with a value Python's datetime cannot hold (year 0 or
    past 9999, which Arrow reads) is written as text as `str` writes the others, and bytes (a
    key, a min or max) as base64, as a profile's `top` and a converted CSV write them."""
    plain = [plain_cells(batch) for batch in table.to_batches()]
    table = pa.Table.from_batches(plain, plain_cell_schema(table.schema))
    names = table.column_names
    columns = [_values(table[name]) for name in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _values(column: pa.ChunkedArray) -> list[Any]:
    if pa.types.is_decimal(column.type):
        return _decimal_numbers(column)
    try:
        return list(column.to_pylist())
    except (ValueError, OverflowError):
        if time_unit(column.type) is None:
            raise
        return column_texts(column)


def _decimal_numbers(column: pa.ChunkedArray) -> list[Any]:
    """Decimals as JSON numbers, as the profile writes them (not the text `str` makes of them,
    which sorts as text): whole ones (an integer column's exact sum, IDs in a decimal(20, 0))
    as integers with every digit, others as float64 (`decimal_number`)."""
    scale = column.type.scale
    return [None if v is None else decimal_number(v, scale) for v in column.to_pylist()]


def _exact_means(sums: pa.ChunkedArray, counts: pa.ChunkedArray) -> pa.ChunkedArray:
    """Each exact integer sum over its count, rounded once (Python's int / int): Arrow's cast of
    a decimal past 2^64 to float64 can be an ulp off. In Python, but once per group, not row,
    and a slice at a time (a million groups' sums as `Decimal`s would hold ~100 MB)."""
    step = _MEAN_SLICE
    slices = [(sums.slice(i, step), counts.slice(i, step)) for i in range(0, len(sums), step)]
    return pa.chunked_array([_means(s, n) for s, n in slices], pa.float64())


def _means(sums: pa.ChunkedArray, counts: pa.ChunkedArray) -> pa.Array:
    # No values: null, as pandas' NaN (not 0/0).
    pairs = zip(sums.to_pylist(), counts.to_pylist(), strict=True)
    return pa.array([int(s) / n if n else None for s, n in pairs], pa.float64())


def _partials(column: str, metric: str) -> list[tuple[str, str]]:
    """What is kept of `metric` per batch: a mean is merged from its sum and count, and a sum
    needs its count for min_count."""
    return [(column, "sum"), (column, "count")] if metric in ("mean", "sum") else [(column, metric)]


def _specs(partials: list[tuple[str, str]]) -> list[Any]:
    return [(c, m, _SUM_OF_NOTHING) if m == "sum" else (c, m) for c, m in partials]


def _applies(empty: pa.Table, keys: list[str], specs: list[Any]) -> bool:
    try:
        empty.group_by(keys).aggregate(specs)
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return False
    return True


def _not_a_key(column: str, type_: pa.DataType) -> FileJobError:
    return FileJobError(
        "unsupported_metric",
        f"Cannot group by column {column!r}, which holds {_kind(type_)}: group by columns of "
        "numbers, text, dates or true/false values.",
    )


def _not_applicable(column: str, type_: pa.DataType, metric: str) -> FileJobError:
    return FileJobError(
        "unsupported_metric",
        f"Cannot compute {metric} of column {column!r}, which holds {_kind(type_)}: {metric} "
        f"applies to {_APPLIES_TO[metric]}.",
    )


def _kind(type_: pa.DataType) -> str:
    """A column's type in its owner's words, not Arrow's."""
    if pa.types.is_dictionary(type_):
        return "categories (text stored as codes)"
    if pa.types.is_nested(type_):
        return "lists or objects"
    if pa.types.is_temporal(type_):
        return "dates or times"
    if pa.types.is_boolean(type_):
        return "true/false values"
    if is_text(type_):
        return "text"
    if pa.types.is_integer(type_) or pa.types.is_floating(type_) or pa.types.is_decimal(type_):
        return "numbers"
    return f"values of type {type_}"


def _strip(name: str) -> str:
    """`x_sum_sum` -> `x_sum`: a merged partial keeps its original name."""
    base, _, _ = name.rpartition("_")
    return base if base else name
