"""WebSocket push benchmark for one api process: capacity, fan-out, submit→push latency.

    .venv/bin/python bench/ws.py [--clients 5000] [--fanout-clients 500] [--fanout-events 200]
                                 [--jobs 1000] [--rate 100]

Starts its own embedded Redis, one api process (uvicorn, compression off), one Celery worker
(with this module's trivial task) and, for comparison, a plain `websockets` server that fans out
with `broadcast()`. Clients run in this process. Figures go to stdout; record them in
bench/RESULTS.md.

Latency: `--rate` submits/s of a trivial task, alternating between a job whose push is timed
(submit until its event reaches a subscribed WebSocket client) and a `delay().get()` round trip,
`--jobs` of each, so both see the same load and the same pauses. Commit→push (our push layer's
own part) is also timed by an observer (`bench/observer.py`): one more subscribed client in a
process of its own, a blocking socket and no event loop, which also reports its own wait for a
CPU before each receipt. The bench's own client shares its interpreter with the Celery
round-trip threads, so its readings include waits for the GIL that no real client pays. Beside
both, the api's own commit -> write histogram (`/metrics`, read before and after the run) says
how much of it is the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import redis
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import delays  # noqa: E402
from bench.rates import QUEUEING_FACTOR, sustained, sustained_rate  # noqa: E402
from bench.rounds import in_turn  # noqa: E402
from jobcast import rediskeys  # noqa: E402
from jobcast.embedded_redis import EmbeddedRedis, free_port  # noqa: E402
from jobcast.keys import create_key  # noqa: E402
from jobcast.rediskeys import job_key  # noqa: E402
from jobcast.settings import Settings  # noqa: E402
from tests.support.processes import (  # noqa: E402
    WS_LIMITS_LIFTED,
    Proc,
    api_argv,
    market_symbols,
    process_env,
    spawn,
    wait_for,
    worker_argv,
)
from tests.support.stack import start_private_redis  # noqa: E402

NAME_DELAY = delays.NAME
PAYLOAD = {"symbol": "BENCH", "price": "101.25", "qty": 3, "side": "buy"}


# --- the worker side: a trivial job that commits its outcome and event -------------------------
def _register_task() -> None:
    from jobcast.events import Commit, commit
    from jobcast.jobs.records import SUCCEEDED, events_for
    from workers.app import app
    from workers.context import worker_context

    @app.task(name="jobcast.bench.trivial")  # type: ignore[untyped-decorator]
    def trivial(job_id: str, owner: str) -> str:
        change = Commit(
            job_key(job_id),
            {"status": SUCCEEDED},
            events_for(job_id, owner, "job.succeeded", {"status": SUCCEEDED}),
        )
        commit(worker_context().redis, change)
        return job_id


if __name__ != "__main__":  # imported by the worker (`--include bench.ws`)
    _register_task()


# --- processes ----------------------------------------------------------------------------------
def start_stack(tmp: Path) -> tuple[EmbeddedRedis, subprocess.Popen[bytes], Settings]:
    return start_private_redis(tmp, ws_send_queue=4096)


def start_api(settings: Settings, tmp: Path) -> tuple[Proc, str]:
    port = free_port()
    # The api exactly as `jobcast up` runs it (its guarded HTTP protocol, no access log, no proxy
    # headers), quieter: uvicorn picks uvloop itself, as in production.
    argv = [*api_argv(port, ws_max_size=settings.ws_max_frame_bytes), "--log-level", "warning"]
    env = process_env(
        settings,
        {
            "JOBCAST_WS_SEND_QUEUE": str(settings.ws_send_queue),
            **WS_LIMITS_LIFTED,
            **market_symbols("BENCH", "CAP"),  # the channels this bench publishes on
        },
    )
    proc = spawn("api", argv, env, tmp)
    wait_for(lambda: _http_ok(f"http://127.0.0.1:{port}/healthz"), 30, "api", proc)
    return proc, f"ws://127.0.0.1:{port}/ws"


def start_worker(settings: Settings, tmp: Path) -> Proc:
    argv = worker_argv("orders", 2, ["bench.ws"], "bench")
    proc = spawn("worker", argv, process_env(settings), tmp)
    client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
    wait_for(lambda: bool(client.hgetall(rediskeys.WORKERS_KEY)), 60, "worker", proc)
    return proc


def start_baseline(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--baseline-server", str(port)], cwd=ROOT, start_new_session=True
    )
    wait_for(lambda: _port_open(port), 15, "baseline server")
    return proc, f"ws://127.0.0.1:{port}/"


def _http_ok(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --- the baseline: a plain websockets server that broadcasts on request --------------------------
async def baseline_server(port: int) -> None:
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        async for text in ws:
            command = json.loads(text)
            if command["type"] == "subscribe":
                clients.add(ws)
                await ws.send(json.dumps({"type": "subscribed"}))
            elif command["type"] == "fanout":
                for i in range(command["count"]):
                    broadcast(clients, _event(i))
                    await asyncio.sleep(0)  # let the loop write, as a real server between events

    async with serve(handler, "127.0.0.1", port, compression=None, max_queue=None):
        await asyncio.get_running_loop().create_future()


def _event(i: int) -> str:
    return json.dumps(
        {
            "seq": f"0-{i}",
            "channel": "market.BENCH",
            "type": "market.trade",
            "ts": time.time(),
            "data": {**PAYLOAD, "i": i},
        }
    )


# --- clients ----------------------------------------------------------------------------------
async def open_client(url: str, key: str | None, channel: str) -> ClientConnection:
    ws = await connect(url, compression=None, open_timeout=60, proxy=None, ping_interval=None)
    if key is not None:
        await ws.send(json.dumps({"type": "auth", "key": key}))
        await ws.recv()
    await ws.send(json.dumps({"type": "subscribe", "channel": channel}))
    await ws.recv()
    return ws


async def open_many(url: str, key: str | None, channel: str, count: int) -> list[ClientConnection]:
    clients: list[ClientConnection] = []
    for start in range(0, count, 200):  # in waves: a burst of 5,000 handshakes overflows backlogs
        wave = [open_client(url, key, channel) for _ in range(min(200, count - start))]
        clients += await asyncio.gather(*wave)
    return clients


def start_observer(url: str, key: str, out: Path) -> subprocess.Popen[bytes]:
    observer = ROOT / "bench" / "observer.py"
    proc = subprocess.Popen([sys.executable, str(observer), url, key, str(out)], cwd=ROOT)
    wait_for(lambda: out.exists() and out.read_text().startswith("ready"), 30, "the observer")
    return proc


def observed(out: Path) -> tuple[list[float], list[float]]:
    """The observer's commit -> receipt times, and its run-queue wait before each receipt."""
    rows = [line.split() for line in out.read_text().splitlines()[1:]]
    return [float(row[1]) for row in rows], [float(row[2]) for row in rows]


async def count_events(ws: ClientConnection, wanted: int) -> None:
    got = 0
    while got < wanted:
        message = json.loads(await ws.recv())
        if message.get("type") == "market.trade":
            got += 1


async def close_all(clients: list[ClientConnection]) -> None:
    await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)


# --- the three measurements -------------------------------------------------------------------
async def capacity(
    url: str, key: str, api: Proc, count: int, client: redis.Redis
) -> dict[str, Any]:
    server = psutil.Process(api.popen.pid)
    before = server.memory_info().rss
    clients = await open_many(url, key, "market.CAP", count)
    await asyncio.sleep(1)
    after = server.memory_info().rss
    from jobcast.events import Event, publish

    publish(client, Event("market.CAP", "market.trade", PAYLOAD))
    await asyncio.wait_for(asyncio.gather(*(count_events(ws, 1) for ws in clients)), 60)
    await close_all(clients)
    return {
        "clients": count,
        "rss_before_mb": before / 2**20,
        "rss_after_mb": after / 2**20,
        "kb_per_client": (after - before) / count / 1024,
    }


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


async def fanout_ours(
    url: str, key: str, client: redis.Redis, clients_n: int, events: int, pid: int
) -> tuple[float, float]:
    """(messages delivered per second, per CPU-second of the api process)."""
    from jobcast import scripts
    from jobcast.events import Commit, Event

    clients = await open_many(url, key, "market.BENCH", clients_n)
    readers = asyncio.gather(*(count_events(ws, events) for ws in clients))
    started, cpu = time.perf_counter(), cpu_seconds(pid)
    pipe = client.pipeline(transaction=False)
    for i in range(events):
        event = Event("market.BENCH", "market.trade", {**PAYLOAD, "i": i})
        change = Commit(rediskeys.no_record_key("market.BENCH"), {}, [event])
        scripts.run(pipe, "commit", change.keys(), change.args())
    await asyncio.to_thread(pipe.execute)
    await asyncio.wait_for(readers, 300)
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu
    await close_all(clients)
    return clients_n * events / elapsed, clients_n * events / max(cpu, 0.01)


async def fanout_baseline(url: str, clients_n: int, events: int, pid: int) -> tuple[float, float]:
    """The same, from a plain websockets server that calls broadcast() per event."""
    clients = await open_many(url, None, "market.BENCH", clients_n)
    readers = asyncio.gather(*(count_events(ws, events) for ws in clients))
    started, cpu = time.perf_counter(), cpu_seconds(pid)
    await clients[0].send(json.dumps({"type": "fanout", "count": events}))
    await asyncio.wait_for(readers, 300)
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu
    await close_all(clients)
    return clients_n * events / elapsed, clients_n * events / max(cpu, 0.01)


async def fanout_alternated(
    url: str,
    key: str,
    client: redis.Redis,
    baseline_url: str,
    args: argparse.Namespace,
    pid: int,
    baseline_pid: int,
) -> tuple[float, float, float, float]:
    """Both fan-outs, alternated (`bench.rounds.in_turn`): best msg/s of each, and the msg per
    CPU-second of that best round."""
    n, events = args.fanout_clients, args.fanout_events
    best_ours, best_base = (0.0, 0.0), (0.0, 0.0)
    for round_ in range(args.fanout_rounds):
        for side in in_turn(round_, ("ours", "base")):
            if side == "ours":
                got = await fanout_ours(url, key, client, n, events, pid)
                best_ours = max(best_ours, got)
            else:
                got = await fanout_baseline(baseline_url, n, events, baseline_pid)
                best_base = max(best_base, got)
    return (*best_ours, *best_base)


async def push_latency(
    url: str, key: str, owner: str, settings: Settings, jobs: int, rate: float, t0: float
) -> tuple[list[float], list[float], list[float]]:
    """Send trivial jobs at `rate`/s from `t0` (from a thread: kombu blocks) and time each until
    its push reaches the client. Returns the latencies and their two parts: submit -> the
    worker's commit (Celery's), and commit -> the client (ours)."""
    sender = celery_sender(settings)
    ws = await open_client(url, key, "user.me")
    sent: dict[str, tuple[float, float]] = {}  # job id -> (perf_counter, wall clock) at submit
    latencies: list[float] = []
    runs: list[float] = []
    pushes: list[float] = []

    def send_paced() -> None:
        for n in range(jobs):
            time.sleep(max(0.0, t0 + n / rate - time.perf_counter()))
            job_id = secrets.token_hex(8)
            sent[job_id] = (time.perf_counter(), time.time())
            sender.send_task("jobcast.bench.trivial", args=[job_id, owner], queue="orders")

    async def receive() -> None:
        while len(latencies) < jobs:
            frame = await ws.recv()
            # Timed before parsing, as the observer is.
            received, received_wall = time.perf_counter(), time.time()
            message = json.loads(frame)
            job_id = message.get("data", {}).get("job_id")
            if job_id in sent:
                submitted, submitted_wall = sent.pop(job_id)
                latencies.append(received - submitted)
                runs.append(message["ts"] - submitted_wall)
                pushes.append(received_wall - message["ts"])

    reader = asyncio.create_task(receive())
    await asyncio.to_thread(send_paced)
    await asyncio.wait_for(reader, 60)
    await ws.close()
    return latencies, runs, pushes


async def paired(
    url: str, key: str, owner: str, settings: Settings, jobs: int, rate: float
) -> tuple[list[float], list[float], list[float], list[float]]:
    """`jobs` push-timed jobs and `jobs` round trips, alternating at `rate` submits/s in all."""
    t0, each = time.perf_counter() + 1.0, rate / 2
    (push, runs, pushes), trip = await asyncio.gather(
        push_latency(url, key, owner, settings, jobs, each, t0),
        asyncio.to_thread(celery_roundtrip, settings, jobs, each, t0 + 1 / rate),
    )
    return push, runs, pushes, trip


async def find_rate(
    url: str, key: str, owner: str, settings: Settings, args: argparse.Namespace
) -> float:
    """The highest of `--probe-rates` at which round trips do not queue (`bench/rates.py`)."""
    probes: list[tuple[float, float]] = []
    for rate in args.probe_rates:
        jobs = max(20, int(rate / 2 * args.probe_seconds))
        _, _, _, trip = await paired(url, key, owner, settings, jobs, rate)
        probes.append((rate, pct(trip, 0.5)))
        print(f"  probe: {rate:.0f} submits/s, delay().get() p50 {probes[-1][1]:.1f} ms")
        if not sustained(probes[-1], probes[0], QUEUEING_FACTOR):
            break
    rate = sustained_rate(probes)
    print(
        f"highest rate without queueing (p50 within {QUEUEING_FACTOR:g}x the lowest "
        f"rate's): {rate:.0f} submits/s"
    )
    return rate


def celery_sender(settings: Settings) -> Any:
    from celery import Celery

    import celeryconfig

    sender = Celery("bench")
    sender.config_from_object(celeryconfig.config_for(settings))
    return sender


def celery_roundtrip(
    settings: Settings, jobs: int, rate: float, t0: float, threads: int = 8
) -> list[float]:
    """The same task's `delay().get()` round trip, submitted at `rate`/s like the push run:
    job n starts at t0 + n/rate, on one of `threads` threads (each with its own Celery client,
    as result consumers are not shared across threads)."""
    latencies: list[float] = []

    def lane(first: int) -> None:
        sender = celery_sender(settings)
        for n in range(first, jobs, threads):
            time.sleep(max(0.0, t0 + n / rate - time.perf_counter()))
            start = time.perf_counter()
            result = sender.send_task(
                "jobcast.bench.trivial", args=[secrets.token_hex(8), "nobody"], queue="orders"
            )
            result.get(timeout=30)
            latencies.append(time.perf_counter() - start)

    lanes = [threading.Thread(target=lane, args=(i,)) for i in range(threads)]
    for thread in lanes:
        thread.start()
    for thread in lanes:
        thread.join()
    return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="jobcast-bench-"))
    with contextlib.ExitStack() as started:
        # Each process is stopped however the run ends, also when a later one fails to start
        # (an api that cannot import left the embedded Redis running).
        started.callback(_remove, tmp)
        server, redis_proc, settings = start_stack(tmp)
        started.callback(redis_proc.terminate)
        api, url = start_api(settings, tmp)
        started.callback(api.stop)
        worker = start_worker(settings, tmp)
        started.callback(worker.stop)
        baseline, baseline_url = start_baseline(tmp)
        started.callback(baseline.terminate)
        client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
        key, info = create_key(client, settings.secret("key_secret"), "bench")
        await measure(args, tmp, settings, api, url, baseline, baseline_url, client, key, info)
    del server  # the embedded Redis's files, kept until its process is stopped


def _remove(tmp: Path) -> None:
    if os.environ.get("BENCH_KEEP"):
        print(f"(logs in {tmp})")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


async def measure(
    args: argparse.Namespace,
    tmp: Path,
    settings: Settings,
    api: Proc,
    url: str,
    baseline: subprocess.Popen[bytes],
    baseline_url: str,
    client: redis.Redis,
    key: str,
    info: Any,
) -> None:
    cap = await capacity(url, key, api, args.clients, client)
    print(
        f"capacity: {cap['clients']} subscribed clients held; api RSS "
        f"{cap['rss_before_mb']:.1f} -> "
        f"{cap['rss_after_mb']:.1f} MB = {cap['kb_per_client']:.1f} KB per client"
    )
    ours, ours_cpu, base, base_cpu = await fanout_alternated(
        url, key, client, baseline_url, args, api.popen.pid, baseline.pid
    )
    print(
        f"fan-out ({args.fanout_clients} clients x {args.fanout_events} events, best of "
        f"{args.fanout_rounds} alternated rounds each): jobcast "
        f"{ours:,.0f} msg/s, plain websockets broadcast() {base:,.0f} msg/s = "
        f"{ours / base:.2f}x; "
        f"per server CPU-second: {ours_cpu:,.0f} vs {base_cpu:,.0f} = "
        f"{ours_cpu / base_cpu:.2f}x"
    )
    # The two measurements share one stream of `rate` submits/s, alternating: every other
    # submit is a push-timed job, the rest are `delay().get()` round trips. A pause anywhere
    # (worker, Redis, this box) then lands in both, not in one only. A short warm-up round
    # first (not counted): the first task on fresh connections and processes is slow.
    owner = info.principal_id
    await paired(url, key, owner, settings, args.warmup, args.rate)
    if args.find_rate:
        args.rate = await find_rate(url, key, owner, settings, args)
    observer_out = tmp / "observer.txt"
    observer = start_observer(url, key, observer_out)
    metrics_url = url.replace("ws://", "http://").removesuffix("/ws") + "/metrics"
    try:
        before = delays.read_buckets(metrics_url)
        push, runs, pushes, trip = await paired(url, key, owner, settings, args.jobs, args.rate)
        await asyncio.sleep(0.5)  # the observer's last lines
        server = delays.between(before, delays.read_buckets(metrics_url))
    finally:
        observer.terminate()
        observer.wait(10)
    watched, waits = observed(observer_out)
    print(
        f"submit->push, {args.jobs} trivial jobs: p50 {pct(push, 0.5):.1f} ms, "
        f"p99 {pct(push, 0.99):.1f} ms; Celery delay().get(), {args.jobs} of the same task: "
        f"p50 {pct(trip, 0.5):.1f} ms, p99 {pct(trip, 0.99):.1f} ms "
        f"(alternating, {args.rate:.0f} submits/s in all)"
    )
    print(
        f"  (of which submit->commit p50 {pct(runs, 0.5):.1f} ms, p99 {pct(runs, 0.99):.1f} "
        f"ms; "
        f"commit->push p50 {pct(pushes, 0.5):.1f} ms, p99 {pct(pushes, 0.99):.1f} ms, "
        f"max {max(pushes) * 1000:.1f} ms)"
    )
    print(
        f"  commit->push seen by a separate observer process ({len(watched)} events): "
        f"p50 {pct(watched, 0.5):.1f} ms, p99 {pct(watched, 0.99):.1f} ms, "
        f"max {max(watched) * 1000:.1f} ms; its own wait for a CPU before each receipt "
        f"p50 {pct(waits, 0.5):.1f} ms, p99 {pct(waits, 0.99):.1f} ms; less that wait, "
        f"p99 {pct([t - w for t, w in zip(watched, waits, strict=True)], 0.99):.1f} ms"
    )
    print(
        f"  the api's own commit->write ({NAME_DELAY}, {server[-1][1]:.0f} writes to both "
        f"clients): p50 {delays.quantile(server, 0.5) * 1000:.1f} ms, "
        f"p99 {delays.quantile(server, 0.99) * 1000:.1f} ms (interpolated in its buckets); "
        f"{delays.share_within(server, 0.005):.1%} within 5 ms"
    )
    print(f"(mean push {statistics.mean(push) * 1000:.1f} ms, cpus {os.cpu_count()})")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "rate": args.rate,
                    "push_p99_ms": pct(push, 0.99),
                    "trip_p99_ms": pct(trip, 0.99),
                    "commit_push_p99_ms": pct(watched, 0.99),
                    "commit_push_in_bench_p99_ms": pct(pushes, 0.99),
                    "commit_push_wait_p99_ms": pct(waits, 0.99),
                    "commit_write_p99_ms": delays.quantile(server, 0.99) * 1000,
                    "commit_write_within_5ms": delays.share_within(server, 0.005),
                    "fanout": ours,
                    "fanout_base": base,
                    "kb_per_client": cap["kb_per_client"],
                    "clients": cap["clients"],
                }
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--fanout-clients", type=int, default=500)
    parser.add_argument("--fanout-events", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--warmup", type=int, default=50, help="uncounted jobs of each kind first")
    parser.add_argument(
        "--find-rate",
        action="store_true",
        help="probe --probe-rates first; measure at the highest without queueing",
    )
    parser.add_argument("--probe-rates", type=float, nargs="+", default=[50, 100, 200, 400])
    parser.add_argument("--probe-seconds", type=float, default=3.0)
    parser.add_argument("--fanout-rounds", type=int, default=4, help="alternated rounds per side")
    parser.add_argument("--json", type=Path, help="also write the figures here (make bench)")
    parser.add_argument("--baseline-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        # Before either role: the baseline server runs on uvloop like our api (uvicorn's
        # default loop when uvloop is installed), and so do the bench's clients.
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    if args.baseline_server:
        asyncio.run(baseline_server(args.baseline_server))
        return
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
