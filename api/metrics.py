"""Prometheus metrics of the HTTP layer, served at `GET /metrics`.

Each api process keeps its own HTTP counters (prometheus-client's default registry); with
several processes, scrape each one on its own port (processes sharing one port, as uvicorn's
`--workers`, answer a scrape in turn; their access lines carry `pid=`). The job, order, queue
and online-process figures are the cluster's, read from Redis (`api.cluster_metrics`): every
process serves the same. A Redis that does not answer in time costs a scrape those figures,
never the scrape itself: `jobcast_redis_up` says which.
"""

from __future__ import annotations

import asyncio
import hmac
import time

import redis.asyncio as aioredis
from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from pydantic import SecretStr
from redis.exceptions import RedisError

from api import cluster_metrics
from api.deps import RedisDep, SettingsDep
from api.errors import ApiError
from jobcast.settings import Settings

#: Seconds a scrape waits for the cluster's figures. Well under Prometheus' default scrape
#: timeout (10 s): a stalled Redis held the scrape for two socket timeouts (5 s each), the
#: scrape failed, and the process's own figures, which need no Redis, were lost with it.
CLUSTER_READ_SECONDS = 1.5

REQUESTS = Counter(
    "jobcast_http_requests_total", "HTTP requests answered.", ["method", "route", "status"]
)
LATENCY = Histogram(
    "jobcast_http_request_duration_seconds",
    "Time from request to the end of the response.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class InFlight:
    """Requests being served now: a plain count the gauge reads when scraped. Only the event
    loop's thread changes it, and a Gauge's inc/dec take a lock each, twice per request."""

    def __init__(self) -> None:
        self.count = 0

    def enter(self) -> None:
        self.count += 1

    def leave(self) -> None:
        self.count -= 1

    async def drained(self, within: float) -> None:
        """Return once no request is being served, or after `within` seconds. Polled, at
        shutdown only: an Event kept for it would cost every request a check, and bind to the
        first event loop that waits on it."""
        deadline = time.monotonic() + within
        while self.count and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


IN_FLIGHT = InFlight()
Gauge("jobcast_http_requests_in_flight", "HTTP requests being served now.").set_function(
    lambda: IN_FLIGHT.count
)

REDIS_UP = Gauge(
    "jobcast_redis_up",
    "1 when this scrape read the cluster's figures from Redis; 0 when Redis failed or did not "
    "answer in time, and they are left out.",
)
CLUSTER_READ_FAILURES = Counter(
    "jobcast_cluster_read_failures_total",
    "Scrapes that could not read the cluster's figures from Redis: timeout, or error.",
    ["reason"],
)
for _reason in ("timeout", "error"):  # at 0 from the start, so that increase() sees the first
    CLUSTER_READ_FAILURES.labels(_reason)

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics(request: Request, redis: RedisDep, settings: SettingsDep) -> Response:
    """Prometheus text format: this process's figures, then the cluster's (same on every api
    process). With Redis away the cluster's are left out rather than the whole answer failing.
    Behind a bearer token when JOBCAST_METRICS_TOKEN is set."""
    _require_metrics_token(request, settings.metrics_token)
    cluster = await _cluster_figures(redis, settings)  # first: it sets REDIS_UP
    return Response(generate_latest() + cluster, media_type=CONTENT_TYPE_LATEST)


async def _cluster_figures(redis: aioredis.Redis, settings: Settings) -> bytes:
    """The cluster's figures, or nothing when Redis cannot give them within
    CLUSTER_READ_SECONDS: a figure kept from an earlier scrape would be served as current."""
    try:
        async with asyncio.timeout(CLUSTER_READ_SECONDS):
            snapshot = await cluster_metrics.read_snapshot(redis, settings)
    except TimeoutError:
        return _cluster_unread("timeout")
    except (RedisError, OSError):
        return _cluster_unread("error")
    REDIS_UP.set(1)
    return cluster_metrics.exposition(snapshot)


def _cluster_unread(reason: str) -> bytes:
    REDIS_UP.set(0)
    CLUSTER_READ_FAILURES.labels(reason).inc()
    return b""


def _require_metrics_token(request: Request, token: SecretStr | None) -> None:
    if token is None:
        return
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), expected):
        message = "/metrics needs `Authorization: Bearer <JOBCAST_METRICS_TOKEN>`."
        raise ApiError(401, "unauthenticated", message, headers={"WWW-Authenticate": "Bearer"})


#: Each (method, route, status)'s counter and histogram, looked up once: `labels()` checks and
#: joins its values under a lock on every call, a few microseconds per request.
_CHILDREN: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def observe(method: str, route: str, status: int, seconds: float) -> None:
    children = _CHILDREN.get((method, route, status))
    if children is None:
        children = (REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route))
        _CHILDREN[(method, route, status)] = children
    children[0].inc()
    children[1].observe(seconds)
