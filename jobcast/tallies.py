"""Cluster-wide counters of what the records went through, kept in Redis at commit time.

A tally is one `HINCRBY` (or `HINCRBYFLOAT`) on a metrics hash, applied by the very Lua script
that commits the record change it counts, and only if that commit happens: a counter can never
disagree with the records, a redelivered task that commits nothing counts nothing, and every api
process reads the same totals (`api.cluster_metrics` serves them on `/metrics`).

Histograms are tallies too: a value adds 1 to its bucket's field (not cumulative; the reader
sums them), its value to `<labels>|sum` and 1 to `<labels>|count`.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from jobcast.rediskeys import METRICS_PREFIX

PREFIX = METRICS_PREFIX
#: Hash of job counters: `submitted`, `succeeded`, `cancelled`, `failed|<error code>`.
JOBS_KEY = PREFIX + "jobs"
#: Histogram hash of job run time (start -> end), labels `<operation>|<status>`.
JOB_DURATION_KEY = PREFIX + "job_duration"
#: Hash of order counters: `accepted`, `filled`, `trades`, `cancelled|<reason>`,
#: `rejected|<reason>`.
ORDERS_KEY = PREFIX + "orders"
#: Histogram hash of matching lag (order accepted -> its first matching step committed).
MATCH_LAG_KEY = PREFIX + "match_lag"
#: Hash of task counters by task name: `deaths|<task>` (its process died running it),
#: `quarantined|<task>`, `exhausted|<task>` (`workers.attempts`).
TASKS_KEY = PREFIX + "tasks"
#: Hash of the reconciler's resends: `job|<status it was stuck in>`, `symbol`.
RECONCILER_KEY = PREFIX + "reconciler"

#: Separates labels in a field name (codes, reasons and operations never contain it).
SEP = "|"

JOB_DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
MATCH_LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


@dataclass(frozen=True)
class Tally:
    """Add `amount` to `field` of the hash `key` when the commit carrying it applies."""

    key: str
    field: str
    amount: int | float = 1

    def amount_text(self) -> str:
        return str(self.amount) if isinstance(self.amount, int) else f"{self.amount:.6f}"


def label(*parts: str) -> str:
    return SEP.join(parts)


def bucket_field(labels: str, bounds: tuple[float, ...], value: float) -> str:
    """The field of the smallest bucket holding `value` (`+Inf` past the last bound)."""
    index = bisect.bisect_left(bounds, value)
    bound = "+Inf" if index == len(bounds) else repr(float(bounds[index]))
    return label(labels, bound) if labels else bound


def observations(
    key: str, labels: str, bounds: tuple[float, ...], values: Iterable[float]
) -> list[Tally]:
    """Tallies recording `values` in the histogram `key` (one per bucket touched)."""
    values = [max(0.0, v) for v in values]
    if not values:
        return []
    prefix = labels + SEP if labels else ""
    buckets = Counter(bucket_field(labels, bounds, v) for v in values)
    return [
        *(Tally(key, name, count) for name, count in sorted(buckets.items())),
        Tally(key, prefix + "sum", float(sum(values))),
        Tally(key, prefix + "count", len(values)),
    ]


def lua_spec(tallies: Iterable[Tally], first_key: int) -> tuple[list[str], list[list[str | int]]]:
    """The extra KEYS the tallies touch (numbered from `first_key`, 1-based as in Lua) and the
    `[[key index, field, amount]]` list `apply_tallies` (`jobcast/lua/apply_tallies.lua`) takes."""
    keys: list[str] = []
    spec: list[list[str | int]] = []
    for tally in tallies:
        if tally.key not in keys:
            keys.append(tally.key)
        spec.append([first_key + keys.index(tally.key), tally.field, tally.amount_text()])
    return keys, spec
