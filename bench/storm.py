"""Reconnect storm: N WebSocket clients dropped at once reconnect with `since`, on one api process.

    .venv/bin/python bench/storm.py [--clients 5000] [--channels 100] [--rate 100] [--rounds 1]

Starts an embedded Redis and one api process with the launcher's command line (as
`bench/front.py`), wrapped by `bench/gc_probe.py` so every garbage collection inside the api is
timed. A live probe (a subprocess) commits `--rate` events/s through `jobcast.events.publish`,
round robin over `--channels` market channels, and stays subscribed to all of them on one
WebSocket: its commit → push latency is what a connected client sees while the storm runs.

The N storm clients (in this process) each authenticate and subscribe to one of those channels.
Then every socket is aborted at once (as a network drop would) and all reconnect at once with
`since` = the last seq each one saw. Afterwards each client's seqs must be exactly its channel's
stream from where it first subscribed: no gap, no duplicate, no resync.

Two sides, alternated over `--rounds`: the api as shipped ("tuned") and the same api with its
collector tuning (`gc.freeze`, `gc.set_threshold`) turned into no-ops by the probe ("stock").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import psutil  # noqa: E402
import redis  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

from bench import gc_probe  # noqa: E402
from bench.front import server_argv  # noqa: E402
from bench.rounds import in_turn  # noqa: E402
from jobcast.embedded_redis import free_port  # noqa: E402
from jobcast.events import Event, publish  # noqa: E402
from jobcast.keys import create_key  # noqa: E402
from jobcast.rediskeys import stream_key  # noqa: E402
from jobcast.settings import Settings  # noqa: E402
from tests.support.processes import (  # noqa: E402
    WS_LIMITS_LIFTED,
    Proc,
    http_ok,
    market_symbols,
    process_env,
    spawn,
    wait_for,
)
from tests.support.stack import start_private_redis  # noqa: E402

#: Handshakes in flight at once during the storm (more overflow the listen backlog, and the
#: kernel's SYN retries then stretch the storm by whole seconds without loading the api more).
IN_FLIGHT = 1000
#: Seconds of steady publishing before the drop and after the last client resumed.
SETTLE_SECONDS = 2.0
SIDES = ("tuned", "stock")
#: Seconds the clients have, once publishing stopped, to receive their channels' last events.
CATCH_UP_SECONDS = 30


# --- the live probe (a subprocess): publishes, and times the pushes it gets back ----------------
def publish_paced(url: str, channels: list[str], rate: float, stop: threading.Event) -> int:
    client = redis.Redis.from_url(url, decode_responses=True)
    t0, n = time.perf_counter(), 0
    while not stop.is_set():
        time.sleep(max(0.0, t0 + n / rate - time.perf_counter()))
        publish(client, Event(channels[n % len(channels)], "market.trade", {"n": n}))
        n += 1
    return n


async def live_probe(args: argparse.Namespace) -> None:
    """Subscribe to every channel, print "ready", publish until stdin says stop, then print
    [[event ts, commit → push seconds], ...] as JSON."""
    channels = args.live_channels.split(",")
    ws = await connect(args.live_ws, compression=None, proxy=None, ping_interval=None)
    await ws.send(json.dumps({"type": "auth", "key": args.live_key}))
    await ws.recv()
    for channel in channels:
        await ws.send(json.dumps({"type": "subscribe", "channel": channel}))
        await ws.recv()
    print("ready", flush=True)
    samples: list[tuple[float, float]] = []
    reader = asyncio.create_task(_time_pushes(ws, samples))
    stop = threading.Event()
    publisher = asyncio.create_task(
        asyncio.to_thread(publish_paced, args.live_redis, channels, args.rate, stop)
    )
    await asyncio.to_thread(sys.stdin.readline)
    stop.set()
    sent = await publisher
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_until(lambda: len(samples) >= sent), 30)
    reader.cancel()
    print(json.dumps(samples), flush=True)


async def _time_pushes(ws: ClientConnection, samples: list[tuple[float, float]]) -> None:
    async for text in ws:
        message = json.loads(text)
        if message.get("type") == "market.trade":
            samples.append((message["ts"], time.time() - message["ts"]))


async def _until(done: Any, every: float = 0.05) -> None:
    """Poll `done`: what it reads is updated by many tasks, with no one event to wait on."""
    while True:
        if done():
            return
        await asyncio.sleep(every)


# --- the storm clients (in this process) ---------------------------------------------------------
@dataclass(eq=False)
class StormClient:
    channel: str
    #: The seq the first `subscribed` reply carried: the stream's end when it subscribed.
    first: str = ""
    seqs: list[str] = field(default_factory=list)
    resyncs: int = 0
    #: Why its reconnect failed ("" when it resumed).
    failure: str = ""
    ws: ClientConnection | None = None
    reader: asyncio.Task[None] | None = None

    async def connect(self, url: str, key: str) -> None:
        ws = await connect(url, compression=None, open_timeout=120, proxy=None, ping_interval=None)
        await ws.send(json.dumps({"type": "auth", "key": key}))
        answer = json.loads(await ws.recv())
        assert answer["type"] == "auth.ok", answer
        since = (self.seqs[-1] if self.seqs else self.first) or None
        await ws.send(json.dumps({"type": "subscribe", "channel": self.channel, "since": since}))
        subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.ws, self.reader = ws, asyncio.create_task(self._read(ws, subscribed))
        await subscribed

    def drop(self) -> None:
        """As a network failure: the socket goes away without a close handshake."""
        if self.ws is not None and self.ws.transport is not None:
            self.ws.transport.abort()

    async def _read(self, ws: ClientConnection, subscribed: asyncio.Future[None]) -> None:
        try:
            async for text in ws:
                self._take(json.loads(text), subscribed)
        except ConnectionClosed:
            pass
        finally:
            if not subscribed.done():
                subscribed.set_exception(
                    ConnectionError(f"closed before subscribed to {self.channel}")
                )

    def _take(self, message: dict[str, Any], subscribed: asyncio.Future[None]) -> None:
        kind = message.get("type")
        if kind == "subscribed":
            self.first = self.first or message.get("seq", "")
            subscribed.set_result(None)
        elif kind == "resync":
            self.resyncs += 1
        elif kind == "market.trade":
            self.seqs.append(message["seq"])
        elif kind == "error" and not subscribed.done():
            subscribed.set_exception(ConnectionError(f"{message['code']}: {message['message']}"))


async def connect_waves(clients: list[StormClient], url: str, key: str) -> None:
    for start in range(0, len(clients), 200):
        await asyncio.gather(*(c.connect(url, key) for c in clients[start : start + 200]))


async def storm(clients: list[StormClient], url: str, key: str) -> tuple[float, float]:
    """Drop every client, reconnect all at once; (wall clock at the drop, when all resumed)."""
    dropped = time.time()
    for client in clients:
        client.drop()
    await asyncio.gather(*(c.reader for c in clients if c.reader is not None))
    print(f"  all {len(clients)} dropped in {time.time() - dropped:.1f} s", flush=True)
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def reconnect(client: StormClient) -> None:
        async with gate:
            try:
                await client.connect(url, key)
            except Exception as exc:  # counted: a client that did not resume is the finding
                client.failure = f"{type(exc).__name__}: {exc}"

    await asyncio.gather(*(reconnect(c) for c in clients))
    # A profiler attached to the api (bench/RESULTS.md: the storm on a slow machine) stops here.
    print(f"  all {len(clients)} back in {time.time() - dropped:.1f} s", flush=True)
    failures = Counter(c.failure for c in clients if c.failure)
    if failures:
        print(f"  {failures.total()} reconnects failed: {failures.most_common(3)}", flush=True)
    return dropped, time.time()


def gapless(clients: list[StormClient], client: redis.Redis) -> int:
    """How many clients saw exactly their channel's stream after their first seq."""
    streams: dict[str, list[str]] = {}
    for channel in {c.channel for c in clients}:
        entries = client.xrange(stream_key(channel), "-", "+")
        streams[channel] = [seq for seq, _ in entries]  # type: ignore[union-attr]
    return sum(c.resyncs == 0 and c.seqs == _after(streams[c.channel], c.first) for c in clients)


def _after(stream: list[str], first: str) -> list[str]:
    return stream[stream.index(first) + 1 :] if first in stream else stream


async def caught_up(clients: list[StormClient], client: redis.Redis) -> None:
    """Wait until every client got its channel's last event (or give up after a while: the
    no-gap check then counts the ones that did not)."""
    ends = {c.channel: client.xrevrange(stream_key(c.channel), count=1) for c in clients}
    last = {channel: entries[0][0] for channel, entries in ends.items() if entries}  # type: ignore[index]
    done = lambda: all(c.seqs and c.seqs[-1] == last.get(c.channel) for c in clients)  # noqa: E731
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(CATCH_UP_SECONDS):
            await _until(done)


# --- one side: an api, a probe, the clients and the storm ----------------------------------------
@dataclass
class Side:
    name: str
    settings: Settings
    tmp: Path
    key: str
    api: Proc | None = None
    probe: subprocess.Popen[str] | None = None
    gc_log: Path = Path()


def start_api(side: Side, channels: list[str]) -> str:
    port = free_port()
    argv = server_argv(side.settings, "api.app:create_app", port)
    side.gc_log = side.tmp / f"gc-{side.name}-{port}.jsonl"
    wrapped = [sys.executable, "-m", "bench.gc_probe", str(side.gc_log), *argv[2:]]
    stock = "1" if side.name == "stock" else "0"
    symbols = market_symbols(*(c.removeprefix("market.") for c in channels))
    env = process_env(side.settings, {**WS_LIMITS_LIFTED, **symbols, "BENCH_GC_STOCK": stock})
    side.api = spawn(f"storm-api-{side.name}-{port}", wrapped, env, side.tmp)
    wait_for(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), 60, "api", side.api)
    return f"ws://127.0.0.1:{port}/ws"


def start_probe(side: Side, url: str, channels: list[str], rate: float) -> None:
    argv = [
        sys.executable, __file__, "--rate", str(rate), "--live-ws", url,
        "--live-key", side.key, "--live-redis", side.settings.broker_url,
        "--live-channels", ",".join(channels),
    ]  # fmt: skip
    side.probe = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    assert side.probe.stdout is not None
    ready = side.probe.stdout.readline().strip()
    assert ready == "ready", f"live probe: {ready!r}"


def stop_probe(side: Side) -> list[tuple[float, float]]:
    assert side.probe is not None
    out, _ = side.probe.communicate("stop\n", timeout=60)
    samples: list[tuple[float, float]] = json.loads(out)
    return samples


async def run_side(side: Side, args: argparse.Namespace, tag: str) -> dict[str, Any]:
    channels = [f"market.storm{tag}{side.name}{i}" for i in range(args.channels)]
    url = start_api(side, channels)
    start_probe(side, url, channels, args.rate)
    clients = [StormClient(channels[i % len(channels)]) for i in range(args.clients)]
    client = redis.Redis.from_url(side.settings.broker_url, decode_responses=True)
    try:
        connected = time.perf_counter()
        await connect_waves(clients, url, side.key)
        connected = time.perf_counter() - connected
        assert side.api is not None
        api = psutil.Process(side.api.popen.pid)
        await asyncio.sleep(SETTLE_SECONDS)
        cpu = cpu_seconds(api)
        dropped, resumed = await storm(clients, url, side.key)
        cpu = cpu_seconds(api) - cpu
        await asyncio.sleep(SETTLE_SECONDS)
        samples = stop_probe(side)
        await caught_up(clients, client)
        ok = gapless(clients, client)
        # The tuned collector's price: cyclic garbage (the dropped clients') kept longer.
        rss = api.memory_info().rss / 2**20
    finally:
        for c in clients:
            c.drop()
        if side.probe is not None and side.probe.poll() is None:
            side.probe.kill()
        if side.api is not None:
            side.api.stop(grace=20)
    got = figures(side, clients, ok, samples, (dropped, resumed), connected)
    return {**got, "api_rss_mb": rss, "api_cpu_storm_s": cpu}


def cpu_seconds(process: psutil.Process) -> float:
    """CPU (user + system) the process used so far: on a shared machine the storm's wall time
    says as much about the neighbours as about the api."""
    times = process.cpu_times()
    return times.user + times.system


def figures(
    side: Side,
    clients: list[StormClient],
    ok: int,
    samples: list[tuple[float, float]],
    window: tuple[float, float],
    connected: float,
) -> dict[str, Any]:
    dropped, resumed = window
    during = [latency for ts, latency in samples if dropped <= ts <= resumed]
    collections = gc_probe.read(side.gc_log)
    in_storm = [r for r in collections if dropped <= r[0] <= resumed]
    return {
        "clients": len(clients),
        "gapless": ok,
        "reconnects_failed": sum(bool(c.failure) for c in clients),
        "storm_seconds": resumed - dropped,
        "connect_seconds": connected,
        "live_events": len(during),
        "live_p50_ms": pct(during, 0.5),
        "live_p99_ms": pct(during, 0.99),
        "live_max_ms": max(during, default=float("nan")) * 1000,
        "gc_max_storm_ms": max((r[2] for r in in_storm), default=0.0) * 1000,
        "gc_max_ms": max((r[2] for r in collections), default=0.0) * 1000,
        "gc_full_storm": sum(r[1] == 2 for r in in_storm),
        "gc_seen": len(collections),
        **pauses(in_storm),
    }


def pauses(in_storm: list[gc_probe.Record]) -> dict[str, Any]:
    """The storm's longest collection beside its CPU time, and all of them together: a pause
    whose CPU is a fraction of its wall time was the kernel running someone else."""
    longest = max(in_storm, key=lambda r: r[2], default=(0.0, -1, 0.0, 0, 0, 0.0))
    return {
        "gc_max_storm_generation": longest[1],
        "gc_max_storm_cpu_ms": longest[5] * 1000,
        "gc_max_storm_collected": longest[3],
        "gc_storm_count": [sum(r[1] == g for r in in_storm) for g in range(3)],
        "gc_storm_wall_s": sum(r[2] for r in in_storm),
        "gc_storm_cpu_s": sum(r[5] for r in in_storm),
        "gc_max_storm_cpu_any_ms": max((r[5] for r in in_storm), default=0.0) * 1000,
    }


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def report(name: str, f: dict[str, Any]) -> None:
    print(
        f"  {name}: {f['gapless']:,} of {f['clients']:,} resumed with no gap "
        f"({f['reconnects_failed']} reconnects failed); storm "
        f"{f['storm_seconds']:.1f} s (first connect {f['connect_seconds']:.1f} s); live "
        f"commit → push during it p50 {f['live_p50_ms']:.1f} ms, p99 {f['live_p99_ms']:.1f} ms, "
        f"max {f['live_max_ms']:.1f} ms ({f['live_events']} events); api GC: longest pause in the "
        f"storm {f['gc_max_storm_ms']:.1f} ms ({f['gc_full_storm']} full), in the whole run "
        f"{f['gc_max_ms']:.1f} ms; the storm's longest: gen {f['gc_max_storm_generation']}, "
        f"{f['gc_max_storm_cpu_ms']:.1f} ms CPU, {f['gc_max_storm_collected']:,} collected; "
        f"longest CPU of one {f['gc_max_storm_cpu_any_ms']:.1f} ms; collections by generation "
        f"{f['gc_storm_count']}, {f['gc_storm_wall_s']:.2f} s wall, {f['gc_storm_cpu_s']:.2f} s "
        f"CPU; api RSS after it {f['api_rss_mb']:.0f} MB; api CPU in the "
        f"storm {f['api_cpu_storm_s']:.2f} s ({f['api_cpu_storm_s'] / f['clients'] * 1e3:.2f} ms "
        "a reconnect)",
        flush=True,
    )


def worst(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure at its worst over the rounds (fewest gapless, longest latency and pause)."""
    out = dict(rounds[0])
    for f in rounds[1:]:
        for name, value in f.items():
            out[name] = min(out[name], value) if name == "gapless" else max(out[name], value)
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="jobcast-bench-storm-"))
    _, redis_proc, settings = start_private_redis(tmp)
    client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
    key, _ = create_key(client, settings.secret("key_secret"), "storm")
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in args.sides}
    try:
        for round_ in range(args.rounds):
            for name in in_turn(round_, args.sides):
                side = Side(name, settings, tmp, key)
                got = await run_side(side, args, str(round_))
                report(f"round {round_ + 1}, {name}", got)
                results[name].append(got)
    finally:
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"(logs in {tmp})")
    return {name: worst(rounds) for name, rounds in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument(
        "--rate",
        type=float,
        default=100.0,
        help="live events/s in all; their pushes count in the api's CPU for as long as the storm "
        "lasts, so to compare CPU a reconnect on a busy machine use a low rate (e.g. 2)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="alternated rounds per side")
    parser.add_argument("--sides", nargs="+", choices=SIDES, default=list(SIDES))
    parser.add_argument("--json", type=Path, help="also write the figures here (make bench)")
    for name in ("--live-ws", "--live-key", "--live-redis", "--live-channels"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    args = parser.parse_args()
    import uvloop  # the api runs on uvloop (uvicorn's default when installed); so do clients

    if args.live_ws:
        uvloop.run(live_probe(args))
        return
    # This process's own collections would only slow the clients down; the api is measured.
    gc.freeze()
    figures = uvloop.run(run(args))
    print(f"worst of {args.rounds} round(s) per side:")
    for name, f in figures.items():
        report(name, f)
    if args.json:
        args.json.write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
