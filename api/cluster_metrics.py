"""Cluster-wide job and order metrics for `/metrics`, read from the tallies in Redis.

The counts are made by the commits themselves (`jobcast.tallies`), so every api process serves
the same totals, whichever process or worker did the work. On each scrape the hashes are read
in one round trip and handed to a prometheus-client custom collector, which turns them into
metric families; queue depths, and which workers and api processes report themselves alive
(`jobcast.worker_registry`, `jobcast.figures`), and how full Redis is (`api.redis_memory`), are
read at the same moment. A scrape that cannot read them serves none of them (`api.metrics`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from api.redis_memory import RedisMemory
from celeryconfig import QUEUES
from jobcast import queue_depths
from jobcast.figures import alive_reports, stale_after
from jobcast.rediskeys import PROCESSES_KEY, WORKERS_KEY
from jobcast.settings import Settings
from jobcast.tallies import (
    JOB_DURATION_BUCKETS,
    JOB_DURATION_KEY,
    JOBS_KEY,
    MATCH_LAG_BUCKETS,
    MATCH_LAG_KEY,
    ORDERS_KEY,
    RECONCILER_KEY,
    SEP,
    TASKS_KEY,
)
from jobcast.worker_registry import live_age, workers_by_queue

Hash = dict[str, str]


@dataclass
class Snapshot:
    """The metrics hashes and queue depths as read at one moment."""

    jobs: Hash = field(default_factory=dict)
    job_duration: Hash = field(default_factory=dict)
    orders: Hash = field(default_factory=dict)
    match_lag: Hash = field(default_factory=dict)
    tasks: Hash = field(default_factory=dict)
    reconciler: Hash = field(default_factory=dict)
    queues: dict[str, int] = field(default_factory=dict)
    workers_online: dict[str, int] = field(default_factory=dict)
    api_processes_online: int = 0
    memory: RedisMemory = field(default_factory=lambda: RedisMemory(0, 0))


async def read_snapshot(client: aioredis.Redis, settings: Settings) -> Snapshot:
    async with client.pipeline(transaction=False) as pipe:
        for key in (
            JOBS_KEY,
            JOB_DURATION_KEY,
            ORDERS_KEY,
            MATCH_LAG_KEY,
            TASKS_KEY,
            RECONCILER_KEY,
            WORKERS_KEY,
            PROCESSES_KEY,
        ):
            pipe.hgetall(key)
        pipe.info("memory")
        queue_depths.read_depths(pipe, QUEUES)
        hashes = await pipe.execute()
    jobs, duration, orders, lag, tasks, reconciler, workers, processes, info, *lengths = hashes
    queues = queue_depths.depths(QUEUES, lengths)
    snapshot = Snapshot(jobs, duration, orders, lag, tasks, reconciler, queues)
    snapshot.memory = RedisMemory.from_info(info)
    _count_online(snapshot, workers, processes, settings)
    return snapshot


def _count_online(snapshot: Snapshot, workers: Hash, processes: Hash, settings: Settings) -> None:
    """Alive by the rules their other readers use: `/readyz`'s for workers, the monitor's for api
    processes (an entry holds its reporter's clock: keep hosts' clocks in sync)."""
    now, heartbeat = time.time(), settings.worker_heartbeat_interval
    snapshot.workers_online = workers_by_queue(workers, now, live_age(heartbeat), QUEUES)
    reports = alive_reports(processes, now, stale_after(settings.monitor_interval, heartbeat))
    snapshot.api_processes_online = sum(r.get("kind") == "api" for r in reports.values())


def exposition(snapshot: Snapshot) -> bytes:
    """The cluster metrics in Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ClusterCollector(snapshot))
    return generate_latest(registry)


def _counter(name: str, doc: str, label: str, values: dict[str, float]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=[label] if label else [])
    for value_label, value in sorted(values.items()):
        family.add_metric([value_label] if label else [], value)
    return family


def _by_queue(name: str, doc: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=["queue"])
    for queue, value in values.items():
        family.add_metric([queue], value)
    return family


def _split(hash_: Hash, prefix: str) -> dict[str, float]:
    """`{label: value}` of the fields `<prefix>|<label>`."""
    start = prefix + SEP
    return {k[len(start) :]: float(v) for k, v in hash_.items() if k.startswith(start)}


def _plain(hash_: Hash, name: str) -> dict[str, float]:
    return {"": float(hash_.get(name, 0))}


class ClusterCollector(Collector):
    """Metric families from one `Snapshot` (the custom-collector pattern of prometheus-client)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.s = snapshot

    def collect(self) -> Iterator[Metric]:
        yield from self._jobs()
        yield from self._orders()
        yield from self._recovery()
        yield _by_queue("jobcast_queue_depth", "Tasks waiting in each queue.", self.s.queues)
        yield from self._processes()
        yield from self._memory()

    def _memory(self) -> Iterator[Metric]:
        memory = self.s.memory
        yield GaugeMetricFamily(
            "jobcast_redis_memory_used_bytes",
            "Memory Redis uses (INFO used_memory).",
            value=memory.used,
        )
        yield GaugeMetricFamily(
            "jobcast_redis_memory_max_bytes",
            "Redis maxmemory; 0 when unlimited.",
            value=memory.limit,
        )
        yield GaugeMetricFamily(
            "jobcast_redis_memory_used_ratio",
            "used_memory / maxmemory (0 when unlimited); writes fail at 1.",
            value=memory.ratio,
        )

    def _processes(self) -> Iterator[Metric]:
        yield _by_queue(
            "jobcast_workers_online",
            "Workers whose heartbeat is fresh, by queue they consume.",
            self.s.workers_online,
        )
        yield GaugeMetricFamily(
            "jobcast_api_processes_online",
            "Api processes whose monitor report is fresh.",
            value=self.s.api_processes_online,
        )

    def _jobs(self) -> Iterator[Metric]:
        jobs = self.s.jobs
        yield _counter(
            "jobcast_jobs_submitted", "File jobs submitted.", "", _plain(jobs, "submitted")
        )
        yield _counter(
            "jobcast_jobs_succeeded", "File jobs that succeeded.", "", _plain(jobs, "succeeded")
        )
        yield _counter(
            "jobcast_jobs_failed",
            "File jobs that failed, by error code.",
            "code",
            _split(jobs, "failed"),
        )
        yield _counter(
            "jobcast_jobs_cancelled", "File jobs cancelled.", "", _plain(jobs, "cancelled")
        )
        yield _histogram(
            "jobcast_job_duration_seconds",
            "Run time of file jobs (start to end).",
            ["operation", "status"],
            self.s.job_duration,
            JOB_DURATION_BUCKETS,
        )

    def _orders(self) -> Iterator[Metric]:
        orders = self.s.orders
        yield _counter(
            "jobcast_orders_accepted", "Orders accepted.", "", _plain(orders, "accepted")
        )
        yield _counter(
            "jobcast_orders_filled", "Orders filled completely.", "", _plain(orders, "filled")
        )
        yield _counter(
            "jobcast_orders_cancelled",
            "Orders cancelled, by reason.",
            "reason",
            _split(orders, "cancelled"),
        )
        yield _counter(
            "jobcast_orders_rejected",
            "Orders rejected by matching, by reason.",
            "reason",
            _split(orders, "rejected"),
        )
        yield _counter("jobcast_trades", "Trades made.", "", _plain(orders, "trades"))
        yield _histogram(
            "jobcast_matching_lag_seconds",
            "Time from an order's acceptance to its first matching step.",
            [],
            self.s.match_lag,
            MATCH_LAG_BUCKETS,
        )

    def _recovery(self) -> Iterator[Metric]:
        """The attempt cap's verdicts and the reconciler's resends (`workers.attempts`,
        `workers.reconciler`)."""
        tasks = self.s.tasks
        yield _counter(
            "jobcast_task_deaths",
            "Deaths of a task's process while running it, by task (also, on another host, a "
            "delivery that ended while Redis was unreachable).",
            "task",
            _split(tasks, "deaths"),
        )
        yield _counter(
            "jobcast_tasks_quarantined",
            "Tasks quarantined after their process died, by task.",
            "task",
            _split(tasks, "quarantined"),
        )
        yield _counter(
            "jobcast_tasks_exhausted",
            "Tasks failed as attempts_exhausted, by task.",
            "task",
            _split(tasks, "exhausted"),
        )
        resends = {k: float(v) for k, v in self.s.reconciler.items()}
        yield _counter(
            "jobcast_reconciler_requeued",
            "Tasks the reconciler sent again, by what was stuck.",
            "kind",
            resends,
        )


def _histogram(
    name: str, doc: str, labels: list[str], hash_: Hash, bounds: tuple[float, ...]
) -> HistogramMetricFamily:
    """A histogram from fields `<labels..>|<bound>` (per bucket), `<labels..>|sum`, `|count`;
    every bound is shown, cumulative, as Prometheus expects."""
    family = HistogramMetricFamily(name, doc, labels=labels)
    series: dict[tuple[str, ...], dict[str, float]] = {}
    for key, value in hash_.items():
        *names, part = key.split(SEP)
        series.setdefault(tuple(names), {})[part] = float(value)
    for label_values, parts in sorted(series.items()):
        buckets, running = [], 0.0
        for bound in bounds:
            running += parts.get(repr(float(bound)), 0.0)
            buckets.append((repr(float(bound)), running))
        buckets.append(("+Inf", running + parts.get("+Inf", 0.0)))
        family.add_metric(list(label_values), buckets, sum_value=parts.get("sum", 0.0))
    return family
