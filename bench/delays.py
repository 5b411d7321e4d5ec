"""The api's own commit -> write figure: `jobcast_ws_delivery_delay_seconds` read from /metrics
before and after a run, so the push layer's share of a client's commit -> receipt time is seen
apart from the client's (its wake-up, its parsing, this box's scheduling)."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

NAME = "jobcast_ws_delivery_delay_seconds"
#: (upper bound in seconds, cumulative count) for each bucket, `+Inf` last.
Buckets = list[tuple[float, float]]


def read_buckets(metrics_url: str) -> Buckets:
    text = httpx.get(metrics_url, timeout=10).text
    for family in text_string_to_metric_families(text):
        if family.name == NAME:
            return [
                (float(s.labels["le"]), s.value)
                for s in family.samples
                if s.name == NAME + "_bucket"
            ]
    raise LookupError(f"{NAME} is not in {metrics_url}")


def between(before: Buckets, after: Buckets) -> Buckets:
    return [(le, a - b) for (le, a), (_, b) in zip(after, before, strict=True)]


def quantile(buckets: Buckets, q: float) -> float:
    """As Prometheus' histogram_quantile: linear within the bucket the rank falls in (seconds)."""
    total = buckets[-1][1]
    if total == 0:
        return float("nan")
    rank, lower, below = q * total, 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if upper == float("inf"):
                return lower  # beyond the last bound: all that can be said is "at least"
            return lower + (upper - lower) * (rank - below) / max(count - below, 1e-12)
        lower, below = upper, count
    return lower


def share_within(buckets: Buckets, bound: float) -> float:
    """The fraction of writes at most `bound` seconds after their commit (a bucket bound)."""
    total = buckets[-1][1]
    return dict(buckets)[bound] / total if total else float("nan")
