"""P8 front door: `python bench/front.py [--seconds 5] [--connections 64] [--rounds 2]`.

Starts an embedded Redis and three single-process uvicorn servers with the exact flags
`jobcast up` gives the api (taken from the launcher itself): our api, a bare Starlette app doing
one async Redis `HGETALL` per `GET /jobs/{id}`, and a bare Starlette app answering static JSON.
The same Python load generator (`bench/load.py`) drives each in turn, alternated over
`--rounds` rounds (best of each kept), then one client alone for the p50 of a single request.

Our `GET /jobs/{id}` is authenticated and rate-limited (limits lifted high enough never to
refuse); the bare app reads the same record from the same Redis.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import redis  # noqa: E402

from bench import load  # noqa: E402
from jobcast.embedded_redis import free_port  # noqa: E402
from jobcast.keys import create_key  # noqa: E402
from jobcast.launcher import Stack, UpOptions  # noqa: E402
from jobcast.settings import Settings  # noqa: E402
from tests.support.processes import Proc, http_ok, process_env, spawn, wait_for  # noqa: E402
from tests.support.stack import start_private_redis  # noqa: E402

# Limits lifted so they never refuse, yet kept where the limiter's emission interval (60,000 /
# per_minute ms) stays above a millisecond timestamp's float precision: higher ones break it.
ENV = {
    "JOBCAST_RATE_READ_PER_MINUTE": "100000000",
    "JOBCAST_RATE_READ_BURST": "10000000",
}
APPS = {
    "api": "api.app:create_app",
    "redis": "bench.bare:redis_app",
    "static": "bench.bare:static_app",
}


def server_argv(settings: Settings, factory: str, port: int) -> list[str]:
    """The launcher's api command line, with only the app and the port changed."""
    argv = Stack(settings.replace(api_port=port, api_host="127.0.0.1"), UpOptions())._api_argv()
    return [factory if arg == APPS["api"] else arg for arg in argv]


def start_servers(settings: Settings, tmp: Path) -> tuple[dict[str, int], list[Proc]]:
    """Each app's port, and its process (in `APPS` order)."""
    env = process_env(settings, ENV)
    ports, procs = {}, []
    for name, factory in APPS.items():
        port = free_port()
        proc = spawn(f"front-{name}", server_argv(settings, factory, port), env, tmp)
        procs.append(proc)
        wait_for(lambda p=port: http_ok(f"http://127.0.0.1:{p}/healthz"), 60, name, proc)  # type: ignore[misc]
        ports[name] = port
    return ports, procs


def make_job(settings: Settings, port: int) -> tuple[str, str]:
    """A key and a job of its own (queued: no worker runs here), through the api."""
    client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
    key, _ = create_key(client, settings.secret("key_secret"), "front")
    response = httpx.post(
        f"http://127.0.0.1:{port}/jobs",
        headers={"Authorization": f"Bearer {key}"},
        files={"file": ("t.csv", b"a,b\n1,2\n3,4\n5,6\n")},
        timeout=30,
    )
    response.raise_for_status()
    return key, response.json()["id"]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU a process has used (Linux' /proc), or None where there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    ports: dict[str, int], pids: dict[str, int], key: str, job: str, args: argparse.Namespace
) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {key}"}
    targets = {
        "api_job": (ports["api"], f"/jobs/{job}", auth),
        "redis_job": (ports["redis"], f"/jobs/{job}", {}),
        "api_healthz": (ports["api"], "/healthz", {}),
        "static_healthz": (ports["static"], "/healthz", {}),
    }
    servers = {"api_job": "api", "redis_job": "redis", "api_healthz": "api"}
    for port, path, headers in targets.values():  # warm-up: imports, pools, first connections
        load.run(port, path, headers, 4, 0.5)
    best: dict[str, float] = {}
    client_cpu: dict[str, float] = {}
    # The server process's CPU per request, least of the rounds: less moved than req/s by
    # whatever else shares the machine (context for the ratios, not a goal of its own).
    server_cpu: dict[str, float] = {}
    errors = 0
    for _ in range(args.rounds):  # alternate: a busy moment hits every side alike
        for name, (port, path, headers) in targets.items():
            pid = pids[servers.get(name, "static")]
            before = cpu_seconds(pid)
            result = load.run(port, path, headers, args.connections, args.seconds)
            after = cpu_seconds(pid)
            if result.per_second > best.get(name, 0.0):
                best[name], client_cpu[name] = result.per_second, result.cpu_share
            if before is not None and after is not None and result.requests:
                used = (after - before) / result.requests * 1e6
                server_cpu[name] = min(used, server_cpu.get(name, used))
            errors += result.errors
    singles = {
        name: load.run(*targets[name], 1, args.single_seconds) for name in ("api_job", "redis_job")
    }
    p50 = {name: statistics.median(r.latencies) * 1000 for name, r in singles.items()}
    return {
        "rps": best,
        "client_cpu": client_cpu,
        "server_cpu_us": server_cpu,
        "p50_ms": p50,
        "errors": errors,
        "connections": args.connections,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per target and round")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--single-seconds", type=float, default=3.0)
    parser.add_argument("--json", type=Path, help="also write the figures here (make bench)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jobcast-bench-front-"))
    _, redis_proc, settings = start_private_redis(tmp)
    procs: list[Proc] = []
    try:
        ports, procs = start_servers(settings, tmp)
        key, job = make_job(settings, ports["api"])
        time.sleep(0.5)
        pids = {name: proc.popen.pid for name, proc in zip(APPS, procs, strict=True)}
        figures = measure(ports, pids, key, job, args)
    finally:
        for proc in procs:
            proc.stop()
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    rps, p50 = figures["rps"], figures["p50_ms"]
    print(
        f"{args.connections} connections, best of {args.rounds} alternated rounds of "
        f"{args.seconds:g} s:"
    )
    for name, value in rps.items():
        share = figures["client_cpu"][name]
        print(f"  {name:15} {value:9,.0f} req/s  (load generator at {share:.0%} of a core)")
    print(
        f"one client: GET /jobs/{{id}} p50 api {p50['api_job']:.2f} ms, bare redis app "
        f"{p50['redis_job']:.2f} ms"
    )
    cpu = figures["server_cpu_us"]
    if len(cpu) == len(rps):
        print(
            f"server CPU per request (least of the rounds): /jobs/{{id}} {cpu['api_job']:.0f} us "
            f"vs bare {cpu['redis_job']:.0f} us ({cpu['redis_job'] / cpu['api_job']:.2f}x), "
            f"/healthz {cpu['api_healthz']:.0f} us vs static {cpu['static_healthz']:.0f} us "
            f"({cpu['static_healthz'] / cpu['api_healthz']:.2f}x)"
        )
    if figures["errors"]:
        print(f"  ({figures['errors']} non-200 answers: the figures above are not valid)")
    if args.json:
        args.json.write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
