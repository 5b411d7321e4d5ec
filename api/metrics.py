"""Prometheus metrics of the HTTP layer, served at `GET /metrics`.

Each api process keeps its own HTTP counters (prometheus-client's default registry); with
several processes, scrape each one (the access log's `pid` tells them apart) or put them behind
a Prometheus that scrapes per target. The job and order figures are the cluster's, kept in
Redis (`api.cluster_metrics`): every process serves the same totals.
"""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from redis.exceptions import RedisError

from api import cluster_metrics
from api.deps import RedisDep

REQUESTS = Counter(
    "jobcast_http_requests_total", "HTTP requests answered.", ["method", "route", "status"]
)
LATENCY = Histogram(
    "jobcast_http_request_duration_seconds",
    "Time from request to the end of the response.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
IN_FLIGHT = Gauge("jobcast_http_requests_in_flight", "HTTP requests being served now.")

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics(redis: RedisDep) -> Response:
    """Prometheus text format: this process's figures, then the cluster's (same on every api
    process). With Redis away the cluster's are left out rather than the whole answer failing."""
    body = generate_latest()
    with contextlib.suppress(RedisError, OSError):
        body += await cluster_metrics.exposition(redis)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def observe(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)
