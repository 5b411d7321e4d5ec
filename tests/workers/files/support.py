"""Generated tables for file-job tests, and helpers to drive jobs through a real api and worker."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import psutil
import redis

from jobcast import rediskeys
from jobcast.events import job_channel, read_since
from jobcast.jobs.records import TERMINAL
from tests.support.api_client import api_client
from workers.files.runner import JobLimits

#: The formats the workers read (`workers.files.formats` and the readers), as the web app's
#: drop zone and the OpenAPI description of `POST /jobs` must both name them.
READ_FORMATS = ("CSV", "TSV", "JSON Lines", "Parquet", "gzip", ".xlsx", ".xlsm", ".xls", ".ods")
#: Small batches and a progress event per batch: a 12 MB file takes a couple of hundred batches,
#: so a test can act while the job runs.
SLOW_WORKER = {"JOBCAST_JOB_BATCH_BYTES": "65536", "JOBCAST_JOB_PROGRESS_INTERVAL": "0.001"}
#: Limits for a job run in-process: small batches, roomy memory.
SMALL_BATCHES = JobLimits(
    memory_budget=256 << 20,
    batch_bytes=64 << 10,
    max_decompressed=1 << 30,
    max_columns=50,
    max_groups=100,
    distinct_limit=1000,
)


def mixed_frame(rows: int, seed: int = 1) -> pd.DataFrame:
    """Numeric, string, datetime and boolean columns, with missing values."""
    rng = np.random.default_rng(seed)
    floats = rng.normal(50, 12, rows)
    floats[rng.random(rows) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "qty": rng.integers(-500, 500, rows),
            "price": floats,
            "fruit": rng.choice(
                ["apple", "banana", "cherry", "date"], rows, p=[0.4, 0.3, 0.2, 0.1]
            ),
            "when": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 10**7, rows), unit="s"),
            "flag": rng.random(rows) < 0.3,
        }
    )


def write_csv(path: Path, rows: int, seed: int = 1) -> Path:
    mixed_frame(rows, seed).to_csv(path, index=False)
    return path


def events(client: redis.Redis, job_id: str) -> list[dict[str, Any]]:
    return read_since(client, job_channel(job_id), "0-0")


def terminal_events(client: redis.Redis, job_id: str) -> list[dict[str, Any]]:
    return [e for e in events(client, job_id) if e["data"].get("status") in TERMINAL]


def await_event(
    client: redis.Redis, job_id: str, predicate: Any, timeout: float = 60
) -> dict[str, Any]:
    """Block on the job's event stream until an event satisfies `predicate`."""
    deadline, seen = time.monotonic() + timeout, "0-0"
    stream = rediskeys.stream_key(job_channel(job_id))
    while time.monotonic() < deadline:
        for event in read_since(client, job_channel(job_id), seen):
            seen = event["seq"]
            if predicate(event):
                return event
        client.xread({stream: seen}, block=500, count=100)
    raise AssertionError(f"no matching event for {job_id} in {timeout}s: {events(client, job_id)}")


def await_terminal(client: redis.Redis, job_id: str, timeout: float = 60) -> dict[str, Any]:
    return await_event(client, job_id, lambda e: e["data"].get("status") in TERMINAL, timeout)


class JobsClient:
    """A principal talking to a real api process."""

    def __init__(self, base_url: str, key: str) -> None:
        self.base_url, self.key = base_url, key
        self.http = api_client(base_url, key, timeout=60)

    def submit(self, path: Path, params: str | None = None, **headers: str) -> httpx.Response:
        data = {"params": params} if params is not None else {}
        with path.open("rb") as f:
            return self.http.post(
                "/jobs", files={"file": (path.name, f)}, data=data, headers=headers
            )

    def submit_ok(self, path: Path, params: str | None = None) -> str:
        response = self.submit(path, params)
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.http.get(f"/jobs/{job_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def snapshot(self, job_id: str) -> dict[str, Any]:
        """The job as a WebSocket subscription without `since` shows it first."""
        from tests.realtime.wsclient import authed, recv, subscribe

        with authed(self.base_url, self.key) as ws:
            subscribe(ws, job_channel(job_id))
            snapshot = recv(ws)
        assert snapshot["type"] == "snapshot", snapshot
        return dict(snapshot["data"])

    def result(self, job_id: str) -> Any:
        response = self.http.get(f"/jobs/{job_id}/result")
        assert response.status_code == 200, response.text
        return response.json()


#: Chunks of 100,000 rows (~4.4 MB) generated before `write_large_csv` writes them over again:
#: generating and formatting took 20 s of a 1 GiB file under load, and 1.6 million rows of
#: fresh values is far past any exact count or buffer of the profile (10,000 distinct values).
FRESH_CHUNKS = 16


def write_large_csv(path: Path, target_bytes: int, seed: int = 0) -> Path:
    """A CSV of about `target_bytes` (mixed numeric, string and datetime columns), written fast:
    past FRESH_CHUNKS chunks, the same rows again."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    rng = np.random.default_rng(seed)
    rows, written, first = 100_000, 0, True
    cities = np.array([f"city{i}" for i in range(300)])
    fresh: list[bytes] = []
    with path.open("wb") as out:
        while written < target_bytes and len(fresh) < FRESH_CHUNKS:
            table = pa.table(
                {
                    "id": np.arange(written, written + rows),
                    "amount": np.round(rng.normal(100, 30, rows), 2),
                    "qty": rng.integers(0, 1000, rows),
                    "city": rng.choice(cities, rows),
                    "ts": np.datetime64("2024-01-01T00:00:00")
                    + rng.integers(0, 10**8, rows).astype("timedelta64[s]"),
                }
            )
            sink = pa.BufferOutputStream()
            pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=first))
            chunk = sink.getvalue().to_pybytes()
            out.write(chunk)
            if not first:
                fresh.append(chunk)
            written, first = written + len(chunk), False
        for chunk in itertools.cycle(fresh):
            if written >= target_bytes:
                break
            out.write(chunk)
            written += len(chunk)
    return path


def write_wide_csv(path: Path, target_bytes: int, columns: int = 400) -> Path:
    """A CSV of about `target_bytes` of small integers in `columns` columns, written in a blink.

    Slow to profile in SLOW_WORKER's 64 KiB batches (each batch pays for every column with a
    few dozen rows: ~1 MiB/s, 10x and more the narrow table's time per byte) and quick in the
    default batches: a job that runs for seconds on a file of a few MiB, and is quick to run
    again. 1024 rows written over and over: each column's values vary within a batch."""
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 1000, (1024, columns))
    block = "".join(",".join(map(str, row)) + "\n" for row in rows).encode()
    with path.open("wb") as out:
        out.write(",".join(f"c{i}" for i in range(columns)).encode() + b"\n")
        for _ in range(-(-target_bytes // len(block))):
            out.write(block)
    return path


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """A result without what legitimately differs between two runs (timings, memory)."""
    varying = ("duration_seconds", "cpu_seconds", "peak_rss_bytes")
    return {k: v for k, v in result.items() if k not in varying}


def drop_redis_connections(client: redis.Redis, process: psutil.Process) -> int:
    """Close, server side, every connection `process` holds to `client`'s Redis (as a Redis
    restart or a network blip would), and no one else's; returns how many were closed."""
    server = client.connection_pool.connection_kwargs["port"]
    theirs = {
        c.laddr.port for c in process.net_connections("tcp") if c.raddr and c.raddr.port == server
    }
    ids = [c["id"] for c in client.client_list() if int(c["addr"].rsplit(":", 1)[1]) in theirs]
    return sum(client.client_kill_filter(_id=i) for i in ids)


def is_progress_past(rows: int) -> Callable[[dict[str, Any]], bool]:
    """Matches a job's progress event once `rows` rows are read."""
    return lambda e: e["type"] == "job.progress" and e["data"].get("rows", 0) >= rows
