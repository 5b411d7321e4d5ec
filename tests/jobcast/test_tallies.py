"""Histogram tallies land in the right bucket and read back as Prometheus histograms."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from api.cluster_metrics import ClusterCollector, Snapshot
from jobcast.tallies import MATCH_LAG_BUCKETS, MATCH_LAG_KEY, observations


def test_observations_count_per_bucket_and_read_back_cumulative() -> None:
    tallies = observations(MATCH_LAG_KEY, "", MATCH_LAG_BUCKETS, [0.001, 0.002, 0.3, 99.0, -1.0])
    fields = {t.field: t.amount_text() for t in tallies}
    # -1 (clocks apart) counts as 0; a value on a bound belongs to that bucket.
    assert fields == {
        "0.001": "2",
        "0.0025": "1",
        "0.5": "1",
        "+Inf": "1",
        "sum": "99.303000",
        "count": "5",
    }

    registry = CollectorRegistry(auto_describe=False)
    registry.register(ClusterCollector(Snapshot(match_lag=fields)))
    text = generate_latest(registry).decode()

    assert 'jobcast_matching_lag_seconds_bucket{le="0.001"} 2.0' in text
    assert 'jobcast_matching_lag_seconds_bucket{le="0.25"} 3.0' in text
    assert 'jobcast_matching_lag_seconds_bucket{le="10.0"} 4.0' in text
    assert 'jobcast_matching_lag_seconds_bucket{le="+Inf"} 5.0' in text
    assert "jobcast_matching_lag_seconds_count 5.0" in text
