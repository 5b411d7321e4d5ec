"""Profile a table batch by batch: a superset of `pandas.DataFrame.describe(include="all")`.

Each column keeps a small state that is updated with every record batch and turned into its
summary at the end; nothing holds the whole table. Counts, mean, std (ddof=1, as pandas), min
and max are exact. Quantiles are exact (linear interpolation, as pandas) while the column's
values fit its share of the memory budget, then come from a sample (see `sketches`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workers.files.cell_text import bytes_text, is_uuid, uuid_texts
from workers.files.datetimes import clock_unit, ticks_text, time_unit
from workers.files.decimals import between_exactly, decimal_floats, decimal_number, holds_in_float
from workers.files.histograms import histogram
from workers.files.order_statistics import FineBins
from workers.files.sketches import (
    DistinctSketch,
    F64Array,
    I64Array,
    QuantileStore,
    ValueCounts,
    hash_values,
    is_text,
    quantile_neighbours,
    quantiles,
    tallied_quantiles,
)

#: Most frequent values reported per column.
TOP_VALUES = 10
#: Bins of each numeric or datetime column's histogram (an integer column's: at most these).
HISTOGRAM_BINS = 20
#: Integers past it are not all exact in float64 (the values binned): no whole-number edges.
EXACT_INTEGERS = 2**53
QUANTILES = (0.25, 0.5, 0.75)
#: Values kept for quantiles, all columns together, from which the columns' summaries (a sort
#: each) are made on two threads: numpy sorts without the GIL, and once the scan is over the
#: read-ahead thread's core is free. Below it a thread would cost more than it saves.
PARALLEL_SUMMARY_VALUES = 1_000_000
#: Kinds summarised as numbers: times, dates and times of day as their ticks.
_NUMERIC = ("integer", "float", "datetime", "time")


def column_kind(type_: pa.DataType) -> str:
    if pa.types.is_boolean(type_):
        return "boolean"
    if pa.types.is_integer(type_):
        return "integer"
    if pa.types.is_floating(type_) or pa.types.is_decimal(type_) or pa.types.is_null(type_):
        return "float"  # a column with no value at all is float64 in pandas
    if pa.types.is_timestamp(type_) or pa.types.is_date(type_):
        return "datetime"
    if pa.types.is_time(type_):
        return "time"  # a time of day (`08:15`), summarised as the aggregate takes it
    if is_text(type_) or pa.types.is_dictionary(type_) or is_uuid(type_):
        return "string"  # a UUID as its canonical text, as a converted CSV writes it
    # Nested values (JSON objects and arrays) and rarer types: counted, not summarised.
    return "other"


class ColumnProfile:
    """The running summary of one column."""

    def __init__(
        self, name: str, type_: pa.DataType, distinct_limit: int, quantile_values: int
    ) -> None:
        self.name, self.kind = name, column_kind(type_)
        #: A date or timestamp column's values are int64 ticks (`_comparable`); written so.
        self.ticks_text = ticks_text(type_)
        #: A decimal column's scale: its min and max are its decimals (`decimal_number`).
        self.scale: int | None = type_.scale if pa.types.is_decimal(type_) else None
        #: Quantiles worked out in decimal, from the float64s that stand for the values.
        self.exact_quantiles = self.scale is not None and holds_in_float(type_)
        self.count = self.nulls = 0
        self.numeric = self.kind in _NUMERIC
        self.counts = ValueCounts(distinct_limit, track_after_overflow=not self.numeric)
        self.distinct = DistinctSketch()
        self.mean = self.m2 = 0.0
        self.min: Any = None
        self.max: Any = None
        self.store = QuantileStore(quantile_values)
        #: A categorical's categories (a Parquet file's pandas categorical), in their order as
        #: first seen: pandas ranks its `top` ties by them.
        self.categories: dict[Any, int] = {}

    def update(self, values: pa.Array) -> None:
        if pa.types.is_dictionary(values.type):
            for value in values.dictionary.to_pylist():
                self.categories.setdefault(value, len(self.categories))
        # A decimal column's min and max are read off its decimals: distinct IDs past 2^53 can
        # have one float64.
        decimals = values if self.scale is not None else None
        values = _comparable(values)
        present = values.drop_null()
        self.nulls += len(values) - len(present)
        if len(present) == 0:
            return
        if self.kind != "other":
            self._update_counts(self._counted(present, decimals))
        if self.numeric:
            self._update_moments(present, present if decimals is None else decimals)
        self.count += len(present)

    def _counted(self, present: pa.Array, decimals: pa.Array | None) -> pa.Array:
        """The values whose frequencies are counted: a wide decimal column's decimals, whose
        float64s can tie (two IDs, one value counted twice)."""
        if decimals is None or self.exact_quantiles:
            return present  # at most 15 digits: each float64 stands for one decimal
        return decimals.drop_null()

    def _update_counts(self, present: pa.Array) -> None:
        if not self.counts.exact:
            self.distinct.update(hash_values(present))
            self.counts.update(present)
            return
        self.counts.update(present)
        if self.counts.seen_at_overflow is not None:
            # Just overflowed: seed the estimate with every distinct value seen so far.
            self.distinct.update(hash_values(self.counts.seen_at_overflow))
            self.counts.seen_at_overflow = None

    def _update_moments(self, present: pa.Array, bounded: pa.Array) -> None:
        bounds = pc.min_max(bounded)  # one Decimal each for a decimal column, not one per value
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        self.min = low if self.min is None else min(self.min, low)
        self.max = high if self.max is None else max(self.max, high)
        array: F64Array = np.asarray(present.to_numpy(zero_copy_only=False), dtype=np.float64)
        with _infinities_allowed():
            mean = float(array.mean())
            # Squared in place; not np.dot, whose BLAS threads would fight the read-ahead thread.
            deviations = array - mean
            m2 = float(np.square(deviations, out=deviations).sum())
        self._merge_moments(len(array), mean, m2)
        self.store.update(array)

    def _merge_moments(self, n_b: int, mean_b: float, m2_b: float) -> None:
        # Chan et al.'s pairwise update: merge a batch's mean and M2 into the running ones.
        n_a, total = self.count, self.count + n_b
        delta = mean_b - self.mean
        self.mean += delta * n_b / total
        self.m2 += m2_b + delta * delta * n_a * n_b / total

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.kind,
            "count": self.count,
            "nulls": self.nulls,
        }
        out.update(self._distinct_summary())
        if self.numeric and self.count:
            out.update(self._numeric_summary())
        return out

    def _distinct_summary(self) -> dict[str, Any]:
        exact = self.counts.exact
        top = [
            {"value": self._top_value(v), "count": c}
            for v, c in self.counts.top(TOP_VALUES, self.categories)
        ]
        return {
            # An estimate can overshoot; there are never more distinct values than values.
            "distinct": self.counts.distinct()
            if exact
            else min(self.distinct.estimate(), self.count),
            "distinct_exact": exact,
            "top": top if self.counts.tracking else None,
            "top_exact": exact,
            "freq": top[0]["count"] if top else None,
        }

    def _top_value(self, value: Any) -> Any:
        if isinstance(value, Decimal) and self.scale is not None:
            return decimal_number(value, self.scale)
        return _jsonable(value, self.ticks_text)

    def _numeric_summary(self) -> dict[str, Any]:
        if self._tallied():
            # Every value is in the exact counts, a few thousand at most: read off them, not
            # off the millions of values kept (a partition and a histogram over 2.2 M took
            # 55 ms of a 107 MB profile's CPU for one 1,000-valued column).
            values, weights = self.counts.tally()
            histogram = self._histogram(values, weights)
            cuts: list[Any] = tallied_quantiles(values, weights, QUANTILES)
        else:
            values = self.store.take()
            fine = FineBins.of(values)  # made once: the histogram and the quantiles read it
            # The histogram first: it reads the values in any order, the quantiles reorder them.
            histogram = self._histogram(values, fine=fine)
            with _infinities_allowed():
                cuts = self._quantiles(values, fine) if len(values) else [None] * 3
        std = float(np.sqrt(self.m2 / (self.count - 1))) if self.count > 1 else None
        out = {
            "mean": self._render(self.mean),
            "std": std if self.kind in ("integer", "float") else None,
            "min": self._render(self.min),
            "25%": self._render(cuts[0]),
            "50%": self._render(cuts[1]),
            "75%": self._render(cuts[2]),
            "max": self._render(self.max),
            "quantiles_exact": self.store.exact,
            "histogram": histogram,
        }
        return out

    def _tallied(self) -> bool:
        """An integer column whose values are all counted exactly (and all kept: the same
        answer, exact, as the values kept give)."""
        return self.kind == "integer" and self.counts.exact and self.store.exact

    def _quantiles(self, values: F64Array, fine: FineBins | None) -> list[Any]:
        if not self.exact_quantiles:
            return quantiles(values, QUANTILES, fine)
        return [between_exactly(*cut) for cut in quantile_neighbours(values, QUANTILES, fine)]

    def _histogram(
        self, values: F64Array, weights: I64Array | None = None, fine: FineBins | None = None
    ) -> dict[str, Any] | None:
        sampled = len(values)
        low, high = float(self.min), float(self.max)
        if not (math.isfinite(low) and math.isfinite(high)):
            fine = None  # of the values with their infinities (there are none then)
            # inf and -inf (pandas reads `inf`; Parquet holds them, NaN too): the bins span the
            # finite values, and an infinity is in none (numpy refuses an infinite range).
            values = values[np.isfinite(values)]
            if not len(values):
                return None
            low, high = float(values.min()), float(values.max())
        counts, edges = self._bin(values, low, high, weights, fine)
        if not self.store.exact and sampled:
            counts = np.rint(counts * (self.count / sampled)).astype(np.int64)
        return {"edges": edges, "counts": [int(c) for c in counts], "exact": self.store.exact}

    def _bin(
        self,
        values: F64Array,
        low: float,
        high: float,
        weights: I64Array | None = None,
        fine: FineBins | None = None,
    ) -> tuple[Any, list[Any]]:
        """The counts, and the edges as the result gives them (an integer column's whole);
        `weights`: how often each of `values` came (else once each); `fine`: their bins."""
        if high == low:
            return np.array([len(values) if weights is None else int(weights.sum())]), [
                self._render(low)
            ] * 2
        # Equal bins [edge, next edge), the last one closed, edges np.linspace over the range:
        # numpy's fast path bins the values in blocks, in any order (a sort took 125 ms of a
        # 2.2 M-row column's summary; one searchsorted over them all, 27-60 ms).
        bins = histogram_bins(low, high, integral=self.kind == "integer")
        if not bins.whole:
            bins = bins._replace(number=_bins_that_fit(bins.first, bins.last, bins.number))
        counts, edges = self._counts(values, weights, bins, fine)
        if weights is not None:
            counts = counts.astype(np.int64)  # sums of whole counts, exact in float64
        if bins.whole:
            return counts, [int(e) for e in edges]
        return counts, [self._render(e) for e in edges]

    @staticmethod
    def _counts(
        values: F64Array, weights: I64Array | None, bins: Bins, fine: FineBins | None
    ) -> tuple[Any, Any]:
        """np.histogram's counts and edges over `bins`: read off the values' fine bins where
        there are any (many values), else binned as numpy bins them (`histograms.histogram`)."""
        if fine is not None and weights is None:
            edges = np.linspace(bins.first, bins.last, bins.number + 1)
            # Edges that do not rise (a range too narrow for the bins) are left to numpy,
            # which refuses them.
            if bool((edges[1:] > edges[:-1]).all()):
                return fine.histogram(edges), edges
        return histogram(values, bins.number, bins.first, bins.last, weights)

    def _render(self, value: Any) -> Any:
        if value is None:
            return None
        if self.ticks_text is not None:
            return self.ticks_text(value)
        if self.kind == "integer" and isinstance(value, int):
            return value
        if isinstance(value, Decimal) and self.scale is not None:
            return decimal_number(value, self.scale)
        return float(value)


class Bins(NamedTuple):
    """`number` equal bins from `first` to `last`; `whole`: their edges are whole numbers."""

    number: int
    first: float
    last: float
    whole: bool


def histogram_bins(low: float, high: float, integral: bool) -> Bins:
    """The bins for values from `low` to `high` (`high > low`): HISTOGRAM_BINS, min to max.

    Integers get bins a whole number wide, from `low`, as few as reach `high`, at most
    HISTOGRAM_BINS: each bin holds as many integers as the next, where 20 bins between min and
    max (0 to 96: 4.8 wide) held 4 or 5 in turn, a false dip every fifth bar. The last bin can
    then reach past `high`."""
    if integral and max(abs(low), abs(high)) <= EXACT_INTEGERS:
        integers = int(high) - int(low) + 1
        width = -(-integers // HISTOGRAM_BINS)
        count = -(-integers // width)
        last = low + count * width
        if abs(last) <= EXACT_INTEGERS:
            return Bins(count, low, last, whole=True)
    return Bins(HISTOGRAM_BINS, low, high, whole=False)


def _bins_that_fit(low: float, high: float, number: int) -> int:
    """`number`, or as many bins as fit in a range so narrow (a few floats apart) that
    `np.linspace`'s edges would not all rise: numpy refuses such bins, and the job failed."""
    low, high = float(low), float(high)
    if (high - low) / number > 4 * math.ulp(max(abs(low), abs(high))):
        return number  # edges at least 4 ulps apart: they rise (the common case, no linspace)
    for fewer in range(number, 1, -1):
        edges = np.linspace(low, high, fewer + 1)
        if bool((edges[1:] > edges[:-1]).all()):
            return fewer
    return 1


def _infinities_allowed() -> np.errstate:
    """inf - inf is NaN, as in pandas (a mean, a std or a quantile between -inf and inf), not a
    warning numpy raises for each batch."""
    return np.errstate(invalid="ignore")


def _comparable(values: pa.Array) -> pa.Array:
    """Datetimes as int64 in their unit (`_time_unit`), so they sum and sort like numbers.

    Not all in nanoseconds, as pandas: they span only the years 1677-2262, and a date such as
    `9999-12-31` (an open end) or `1600-01-01` is a common value."""
    unit = time_unit(values.type)
    if unit is not None:
        return values.cast(pa.timestamp(unit)).cast(pa.int64())
    if clock_unit(values.type) is not None:
        # time32 is int32 ticks: as int64, as wide as the other columns' sums need.
        return values.view(pa.int32() if pa.types.is_time32(values.type) else pa.int64()).cast(
            pa.int64()
        )
    if pa.types.is_decimal(values.type):
        return decimal_floats(values)
    if pa.types.is_dictionary(values.type):
        return values.cast(values.type.value_type)
    if is_uuid(values.type):
        return uuid_texts(values)
    return values


def _jsonable(value: Any, ticks: Callable[[float], str] | None) -> Any:
    if ticks is not None and isinstance(value, int):
        return ticks(value)
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    if isinstance(value, bytes):
        return bytes_text(value)  # as a converted CSV writes it
    return str(value)


class TableProfile:
    """Running profile of a whole table: one ColumnProfile per column."""

    def __init__(self, schema: pa.Schema, distinct_limit: int, quantile_budget_bytes: int) -> None:
        numeric = sum(column_kind(f.type) in _NUMERIC for f in schema)
        per_column = quantile_budget_bytes // 8 // max(1, numeric)
        self.columns = [ColumnProfile(f.name, f.type, distinct_limit, per_column) for f in schema]
        self.rows = 0

    def update(self, batch: pa.RecordBatch) -> None:
        for column, values in zip(self.columns, batch.columns, strict=True):
            column.update(values)
        self.rows += batch.num_rows

    def summary(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": len(self.columns), "profile": self._summaries()}

    def _summaries(self) -> list[dict[str, Any]]:
        if sum(c.store.kept for c in self.columns) < PARALLEL_SUMMARY_VALUES:
            return [c.summary() for c in self.columns]
        with ThreadPoolExecutor(2, thread_name_prefix="jobcast-summary") as pool:
            return list(pool.map(ColumnProfile.summary, self.columns))
