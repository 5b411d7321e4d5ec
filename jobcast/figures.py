"""This host's and process's figures for the monitor, reported to Redis by api and worker processes.

Each process writes its own entry with a timestamp; the monitor's producer reads them all once a
second and leaves out entries too old to be alive, and at once those of processes of its own
host that no longer run (`dead_here`): a process killed and started again (`jobcast up` does so
at once) was counted twice until its old entry aged out, a crash looking like growth.
psutil needs two readings for a rate, so the sampler keeps the previous one.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil
import redis

from jobcast.process_marks import (
    left_by_a_live_process,
    own_start,
    process_mark,
    process_started_at,
)
from jobcast.rediskeys import HOSTS_KEY, PROCESSES_KEY

#: Report intervals after which a host's or process's report counts as from a dead one.
STALE_INTERVALS = 5


@dataclass
class HostSampler:
    hostname: str = field(default_factory=socket.gethostname)
    _net: tuple[float, int, int] | None = None

    def __post_init__(self) -> None:
        psutil.cpu_percent(interval=None)  # the first reading only starts the measurement

    def sample(self) -> dict[str, Any]:
        memory = psutil.virtual_memory()
        received, sent = network_bytes()
        now = time.time()
        in_bps = out_bps = 0.0
        if self._net is not None:
            elapsed = max(1e-3, now - self._net[0])
            in_bps = (received - self._net[1]) / elapsed
            out_bps = (sent - self._net[2]) / elapsed
        self._net = (now, received, sent)
        return {
            "cpu_percent": psutil.cpu_percent(interval=None),
            "memory_percent": memory.percent,
            "memory_used_bytes": memory.used,
            "net_in_bytes_per_s": round(in_bps, 1),
            "net_out_bytes_per_s": round(out_bps, 1),
            "ts": now,
        }


def network_bytes() -> tuple[int, int]:
    """Bytes received and sent by this host's interfaces but loopback: traffic to a local Redis
    or between local processes never leaves the host (counted, it showed as in == out)."""
    stats = psutil.net_if_stats()
    counters = psutil.net_io_counters(pernic=True)
    outward = [c for nic, c in counters.items() if not _loopback(nic, stats)]
    return sum(c.bytes_recv for c in outward), sum(c.bytes_sent for c in outward)


def _loopback(nic: str, stats: dict[str, Any]) -> bool:
    flags = getattr(stats.get(nic), "flags", "")
    return "loopback" in flags.split(",") if flags else nic == "lo"


def stale_after(monitor_interval: float, heartbeat_interval: float) -> float:
    """Seconds after which a report is from a dead process: api processes report every monitor
    interval, workers every heartbeat, so `STALE_INTERVALS` of the slower of the two."""
    return STALE_INTERVALS * max(monitor_interval, heartbeat_interval)


def alive_reports(entries: dict[str, str], now: float, max_age: float) -> dict[str, dict[str, Any]]:
    """The reports (by field) younger than `max_age` seconds."""
    decoded = {name: json.loads(raw) for name, raw in entries.items()}
    return {n: e for n, e in decoded.items() if now - float(e.get("ts", 0)) <= max_age}


def dead_here(
    reports: dict[str, dict[str, Any]],
    hostname: str,
    started_at: Callable[[int], float | None] = process_started_at,
) -> list[str]:
    """The fields of `reports` from processes of this host (`hostname`) that no longer run: pid
    gone or reused since, judged as a worker's name claim is (`jobcast.process_marks`). Another
    host's cannot be judged here (nor one without its start time): they age out."""
    return [name for name, report in reports.items() if _dead(report, hostname, started_at)]


def _dead(report: dict[str, Any], hostname: str, started_at: Callable[[int], float | None]) -> bool:
    if report.get("host") != hostname or "started" not in report or "pid" not in report:
        return False
    mark = process_mark(hostname, int(report["pid"]), float(report["started"]), "report")
    return not left_by_a_live_process(mark, hostname, started_at)


def process_field(kind: str, hostname: str, pid: int | None = None) -> str:
    """A process's field in the reports: this process's unless `pid` names another."""
    return f"{kind}:{hostname}:{os.getpid() if pid is None else pid}"


def tree_rss(children: bool = True) -> int:
    """Resident bytes of this process and its children: a worker's pool processes run its jobs
    (a data frame's growth is theirs), its main process alone was ~100-200 MB below the truth.
    Pages a fork shares with its parent count in each (as `ps` and `top` count them).

    Finding the children reads every process of the host (psutil's parent map): ~8 ms of CPU
    and ~30 ms of wall on a busy 2-core host. A process that starts none (an api process,
    whose event loop it blocked once a second) passes `children=False`."""
    me = psutil.Process()
    total = me.memory_info().rss
    for child in me.children(recursive=True) if children else ():
        with contextlib.suppress(psutil.Error):  # a pool process replaced meanwhile
            total += child.memory_info().rss
    return total


def process_figures(
    kind: str, hostname: str, extra: dict[str, Any], children: bool = True
) -> dict[str, Any]:
    rss = tree_rss(children)
    pid = os.getpid()
    return {
        "kind": kind,
        "host": hostname,
        "pid": pid,
        "started": own_start(pid),
        "rss_bytes": rss,
        "ts": time.time(),
        **extra,
    }


def queue_report(
    pipe: redis.client.Pipeline, sampler: HostSampler, kind: str, extra: dict[str, Any]
) -> None:
    """A worker's report (sync client, from its heartbeat thread), queued on `pipe`."""
    pipe.hset(HOSTS_KEY, sampler.hostname, json.dumps(sampler.sample()))
    pipe.hset(
        PROCESSES_KEY,
        process_field(kind, sampler.hostname),
        json.dumps(process_figures(kind, sampler.hostname, extra)),
    )


def forget_process(pipe: redis.client.Pipeline, kind: str, hostname: str, pid: int) -> None:
    """Drop the report of a process known dead (queued on `pipe`), instead of letting it age out."""
    pipe.hdel(PROCESSES_KEY, process_field(kind, hostname, pid))
