"""The live system monitor: one `monitor.sample` per interval for the whole cluster.

Every api process runs this loop: it reports its own figures, then tries to hold the producer
lease. Only the lease holder reads everyone's reports and publishes the sample, so there is one
sample per interval however many api processes run; if the holder dies, the lease expires and
another process takes over within a few intervals.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Iterable
from typing import Any

from redis.exceptions import RedisError

from celeryconfig import QUEUES
from jobcast import queue_depths
from jobcast.events import Event, publish_async
from jobcast.figures import (
    HostSampler,
    alive_reports,
    dead_here,
    process_field,
    process_figures,
    stale_after,
)
from jobcast.leases import take_or_extend_async
from jobcast.rediskeys import (
    HOSTS_KEY,
    MONITOR_LEASE_KEY,
    PROCESSES_KEY,
    TASKS_FINISHED_KEY,
    TASKS_STARTED_KEY,
    WORKERS_KEY,
)
from realtime.channels import MONITOR_ADMIN
from realtime.runtime import Realtime

log = logging.getLogger("jobcast.realtime.monitor")

HOST_SUMS = ("memory_used_bytes", "net_in_bytes_per_s", "net_out_bytes_per_s")
API_SUMS = ("ws_connections", "hub_channels", "rss_bytes")
SHARED_AS_IS = ("workers_online", "queues", "tasks", "ws_connections")


#: Intervals after which the lease expires (a report goes stale after
#: `jobcast.figures.STALE_INTERVALS`).
LEASE_INTERVALS = 3
#: Seconds the shutdown waits for Redis to take our entry and lease back.
RELEASE_SECONDS = 1.0


class Monitor:
    def __init__(self, rt: Realtime) -> None:
        self.rt = rt
        self.sampler = HostSampler()
        self.me = f"{process_field('api', self.sampler.hostname)}:{secrets.token_hex(3)}"
        self._previous: tuple[float, int, int] | None = None
        self._swept = False

    @property
    def interval(self) -> float:
        return self.rt.settings.monitor_interval

    async def run(self) -> None:
        while True:
            # Ticks on wall-clock multiples of the interval, so the cadence does not drift.
            await asyncio.sleep(self.interval - time.time() % self.interval)
            try:
                await self.sweep_once()
                await self.report()
                if await self.hold_lease():
                    await self.publish_sample()
            except (RedisError, OSError) as exc:
                log.debug("monitor tick skipped: %s", exc)

    async def report(self) -> None:
        redis = self.rt.redis
        extra = {"ws_connections": len(self.rt.sessions), "hub_channels": len(self.rt.hub.channels)}
        async with redis.pipeline(transaction=False) as pipe:
            pipe.hset(HOSTS_KEY, self.sampler.hostname, json.dumps(self.sampler.sample()))
            # An api process starts no children: not walking the host's process table to find
            # them keeps ~30 ms a tick off the event loop that pushes live events.
            figures = process_figures("api", self.sampler.hostname, extra, children=False)
            pipe.hset(
                PROCESSES_KEY,
                process_field("api", self.sampler.hostname),
                json.dumps(figures),
            )
            await pipe.execute()

    async def sweep_once(self) -> None:
        """At this process's start, drop the reports of this host's dead processes: the producer
        may run on another host, which cannot judge them, and this one may be the restart of
        one killed (its report would count on beside ours until it aged out)."""
        if self._swept:
            return
        raw: dict[str, str] = await self.rt.redis.hgetall(PROCESSES_KEY)  # type: ignore[assignment]
        dead = dead_here({n: json.loads(r) for n, r in raw.items()}, self.sampler.hostname)
        if dead:
            await self.rt.redis.hdel(PROCESSES_KEY, *dead)
        self._swept = True

    async def hold_lease(self) -> bool:
        ttl_ms = int(self.interval * LEASE_INTERVALS * 1000)
        held = await take_or_extend_async(self.rt.redis, MONITOR_LEASE_KEY, self.me, ttl_ms)
        if not held:
            self._previous = None  # a later takeover must not compute rates from stale counts
        return held

    async def publish_sample(self) -> None:
        sample = await self.sample()
        await publish_async(self.rt.redis, Event(MONITOR_ADMIN, "monitor.sample", sample))
        totals = Event("monitor", "monitor.sample", cluster_totals(sample))
        await publish_async(self.rt.redis, totals)

    async def sample(self) -> dict[str, Any]:
        async with self.rt.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(HOSTS_KEY)
            pipe.hgetall(PROCESSES_KEY)
            pipe.hgetall(WORKERS_KEY)
            queue_depths.read_depths(pipe, QUEUES)
            pipe.get(TASKS_STARTED_KEY)
            pipe.get(TASKS_FINISHED_KEY)
            hosts, procs, workers, *lengths, started, finished = await pipe.execute()
        now = time.time()
        processes, live_hosts = self._alive(procs, now), self._alive(hosts, now)
        for name in dead_here(processes, self.sampler.hostname):
            del processes[name]
        await self._forget_dead(procs, processes, hosts, live_hosts)
        return {
            "producer": self.me,
            "hosts": live_hosts,
            "api": [p for p in processes.values() if p.get("kind") == "api"],
            "worker_processes": [p for p in processes.values() if p.get("kind") == "worker"],
            "workers_online": len(self._alive(workers, now)),
            "queues": queue_depths.depths(QUEUES, lengths),
            "tasks": self._rates(now, int(started or 0), int(finished or 0)),
            "ws_connections": sum(p.get("ws_connections", 0) for p in processes.values()),
        }

    def _alive(self, entries: dict[str, str], now: float) -> dict[str, dict[str, Any]]:
        max_age = stale_after(self.interval, self.rt.settings.worker_heartbeat_interval)
        return alive_reports(entries, now, max_age)

    async def _forget_dead(
        self,
        procs: dict[str, str],
        live_procs: dict[str, Any],
        hosts: dict[str, str],
        live_hosts: dict[str, Any],
    ) -> None:
        """Drop reports of processes and hosts that stopped reporting or are known dead
        (restarts add new pids)."""
        dead_procs = [name for name in procs if name not in live_procs]
        dead_hosts = [name for name in hosts if name not in live_hosts]
        if dead_procs:
            await self.rt.redis.hdel(PROCESSES_KEY, *dead_procs)
        if dead_hosts:
            await self.rt.redis.hdel(HOSTS_KEY, *dead_hosts)

    def _rates(self, now: float, started: int, finished: int) -> dict[str, Any]:
        previous, self._previous = self._previous, (now, started, finished)
        if previous is None:
            return {
                "started_total": started,
                "finished_total": finished,
                "started_per_s": None,
                "finished_per_s": None,
            }
        elapsed = max(1e-3, now - previous[0])
        return {
            "started_total": started,
            "finished_total": finished,
            "started_per_s": round((started - previous[1]) / elapsed, 2),
            "finished_per_s": round((finished - previous[2]) / elapsed, 2),
        }


def cluster_totals(sample: dict[str, Any]) -> dict[str, Any]:
    """What every principal may see: the cluster's totals, without host names, pids or the
    producer's name (they map the deployment for an attacker)."""
    hosts, api, workers = list(sample["hosts"].values()), sample["api"], sample["worker_processes"]
    return {
        "hosts": {
            "count": len(hosts),
            "cpu_percent": _mean(h["cpu_percent"] for h in hosts),
            "memory_percent": _mean(h["memory_percent"] for h in hosts),
            **{name: sum(h[name] for h in hosts) for name in HOST_SUMS},
        },
        "api": {
            "processes": len(api),
            **{name: sum(p.get(name, 0) for p in api) for name in API_SUMS},
        },
        "worker_processes": {
            "count": len(workers),
            "rss_bytes": sum(p.get("rss_bytes", 0) for p in workers),
        },
        **{name: sample[name] for name in SHARED_AS_IS},
    }


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(sum(items) / len(items), 1) if items else None


async def release(rt: Realtime, monitor: Monitor) -> None:
    """On shutdown: drop our process entry and, if ours, the lease (another takes over now).
    Given up after RELEASE_SECONDS: both expire by themselves, and a Redis that stopped answering
    (a host dropping packets) held the process's exit for the pool's socket timeout."""
    try:
        async with asyncio.timeout(RELEASE_SECONDS):
            await _release(rt, monitor)
    except TimeoutError:
        log.warning(
            "monitor entry not released: Redis did not answer within %s s "
            "(the entry goes stale and the lease expires by themselves)",
            RELEASE_SECONDS,
        )


async def _release(rt: Realtime, monitor: Monitor) -> None:
    with contextlib.suppress(RedisError, OSError):
        await rt.redis.hdel(PROCESSES_KEY, process_field("api", monitor.sampler.hostname))
        if await rt.redis.get(MONITOR_LEASE_KEY) == monitor.me:
            await rt.redis.delete(MONITOR_LEASE_KEY)
