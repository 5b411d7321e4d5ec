"""Order matching throughput and latency: `python bench/orders.py [--orders N]`.

Prints:
1. the pure matching core's orders/s (no Redis);
2. end-to-end accepted-and-matched orders/s through `POST /orders/batch`, the api and the
   `orders` workers, events published, with p50/p99 from acceptance (`order.accepted` ts)
   to the matching step's event for the order (`order.filled` etc., its commit ts), sampled
   on one client's IOC orders (a GTC order may rest, so its next event is not its matching);
3. the same matching machinery fed one Celery task per order (the baseline), same run, from as
   many client threads as our side, each with one event loop and one Redis connection, sending
   the same order mix (half IOC).

Everything runs on this machine: an embedded Redis, uvicorn, Celery workers, all spawned here.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import redis  # noqa: E402
from celery import Celery  # noqa: E402

import celeryconfig  # noqa: E402
from bench.files import tree_cpu  # noqa: E402
from bench.rounds import in_turn  # noqa: E402
from bench.taps import UserTap  # noqa: E402
from jobcast import rediskeys  # noqa: E402
from jobcast.embedded_redis import free_port  # noqa: E402
from jobcast.keys import create_key  # noqa: E402
from jobcast.orders.encoding import NewOrder  # noqa: E402
from jobcast.orders.enums import Side  # noqa: E402
from jobcast.orders.symbols import DEFAULT_SYMBOLS  # noqa: E402
from tests.support.processes import (  # noqa: E402
    Proc,
    api_argv,
    http_ok,
    process_env,
    spawn,
    wait_for,
    worker_argv,
)
from tests.support.stack import start_private_redis  # noqa: E402
from workers.orders.book import Book, Order  # noqa: E402

SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD", "ACME"]
MID = {"BTC-USD": 200, "ETH-USD": 2000, "SOL-USD": 2000, "ACME": 100}
ENV = {
    "JOBCAST_RATE_SUBMIT_PER_MINUTE": "100000000",
    "JOBCAST_RATE_SUBMIT_BURST": "10000000",
    "JOBCAST_RATE_READ_PER_MINUTE": "100000000",
    "JOBCAST_RATE_READ_BURST": "10000000",
    "JOBCAST_RATE_ORDERS_PER_MINUTE": "100000000",
    "JOBCAST_RATE_ORDERS_BURST": "10000000",
    "JOBCAST_ORDER_BATCH_MAX": "1000",
    "JOBCAST_LOG_JSON": "0",
}


def core_orders_per_second(n: int = 300_000) -> float:
    rng = random.Random(1)
    orders = []
    for i in range(n):
        side = "buy" if rng.random() < 0.5 else "sell"
        if rng.random() < 0.05:
            orders.append(Order(f"o{i}", side, rng.randint(1, 20), None, "market", "IOC"))
        else:
            orders.append(Order(f"o{i}", side, rng.randint(1, 20), 1000 + rng.randint(-20, 20)))  # type: ignore[arg-type]
    book, touched = Book(), {}
    start = time.perf_counter()
    for order in orders:
        book.submit(order, touched)
        touched.clear()
    return n / (time.perf_counter() - start)


def random_order(rng: random.Random) -> dict[str, Any]:
    """Orders that mostly cross: buys and sells around one mid price, half of them IOC."""
    symbol = rng.choice(SYMBOLS)
    rules = DEFAULT_SYMBOLS[symbol]
    side = rng.choice(["buy", "sell"])
    ticks = MID[symbol] + (rng.randint(0, 2) if side == "buy" else -rng.randint(0, 2))
    return {
        "symbol": symbol,
        "side": side,
        "quantity": rules.lot_size * rng.randint(1, 5),
        "price": rules.price_text(ticks),
        "time_in_force": rng.choice(["GTC", "IOC"]),
    }


class Stack:
    """Embedded Redis + api + orders workers, started for the bench and stopped after it."""

    def __init__(self, workers: int, api_processes: int) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="jobcast-bench-"))
        self.redis, self.redis_proc, self.settings = start_private_redis(self.tmp)
        self.client = redis.Redis.from_url(self.redis.url, decode_responses=True)
        env = process_env(self.settings, ENV)
        self.procs: list[Proc] = [
            spawn(f"w{i}", worker_argv("orders", 1, [], f"bench{i}"), env, self.tmp)
            for i in range(workers)
        ]
        port = free_port()
        self.procs.append(spawn("api", api_argv(port, api_processes), env, self.tmp))
        self.url = f"http://127.0.0.1:{port}"
        wait_for(lambda: http_ok(f"{self.url}/healthz"), 30, "the api")
        time.sleep(3)  # workers connect to the broker

    def reset(self) -> None:
        self.client.flushdb()

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()
        self.redis_proc.terminate()
        self.redis_proc.wait(timeout=10)
        shutil.rmtree(self.tmp, ignore_errors=True)


#: Seconds between two checks for the end of a run. A run of ours lasts about a second, the
#: baseline's about three: checked every 0.1 s (`wait_for`'s default), the end was seen up to a
#: tenth of ours late, a thirtieth of the baseline's. One check is one round trip.
END_POLL = 0.01


def drained(client: redis.Redis, queue: str | None = None) -> bool:
    """Every symbol's matching has reached its inbound log's last command (and `queue`, the
    baseline's task queue, is empty)."""
    pipe = client.pipeline(transaction=False)
    for symbol in SYMBOLS:
        pipe.xrevrange(rediskeys.inbound_key(symbol), count=1)
        pipe.hget(rediskeys.market_key(symbol), "cursor")
    if queue is not None:
        pipe.llen(queue)
    replies = pipe.execute()
    if queue is not None and replies.pop():
        return False
    return all(
        not last or last[0][0] == cursor
        for last, cursor in zip(replies[::2], replies[1::2], strict=True)
    )


class LatencyTap(UserTap):
    """Acceptance ts and matching-event ts of one principal's IOC orders, from live events.

    One principal's channel is a sample: parsing every event in this process would take the
    CPU the api and workers are measured on.
    """

    def __init__(self, client: redis.Redis, principal_id: str) -> None:
        self.accepted: dict[str, float] = {}
        self.matched: dict[str, float] = {}
        self.count = 0
        super().__init__(client, principal_id)

    def on_message(self, data: str) -> None:
        self.count += 1
        event = json.loads(data)
        if event["type"] == "order.accepted":
            # Only IOC orders: matching always ends them, so their next event is the step
            # that matched them. A GTC order may rest, and its next event is a later fill.
            if event["data"]["time_in_force"] == "IOC":
                self.accepted[event["data"]["id"]] = event["ts"]
        elif event["type"].startswith("order."):
            self.matched.setdefault(event["data"]["id"], event["ts"])

    def stop(self) -> list[float]:
        time.sleep(1)  # events committed last are still on their way
        self.close()
        return [self.matched[i] - t for i, t in self.accepted.items() if i in self.matched]


def post_batches(url: str, key: str, orders: list[dict[str, Any]], batch: int) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
        for i in range(0, len(orders), batch):
            response = http.post("/orders/batch", json={"orders": orders[i : i + batch]})
            response.raise_for_status()


def paced_latency(
    stack: Stack, rate: int, seconds: float, batch: int = 20
) -> tuple[list[float], float]:
    """Latency below saturation: one client sending `rate` orders/s in small batches.
    Returns the latencies and the rate the client actually sent (a busy box may lag)."""
    stack.reset()
    rng = random.Random(4)
    key, info = create_key(stack.client, stack.settings.secret("key_secret"), "paced")
    tap = LatencyTap(stack.client, info.principal_id)
    interval = batch / rate
    with httpx.Client(
        base_url=stack.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as http:
        start = time.perf_counter()
        for i in range(int(seconds * rate / batch)):
            time.sleep(max(0.0, start + i * interval - time.perf_counter()))
            orders = [random_order(rng) for _ in range(batch)]
            http.post("/orders/batch", json={"orders": orders}).raise_for_status()
        sent = (i + 1) * batch / (time.perf_counter() - start)
    wait_for(lambda: drained(stack.client), 60, "matching to finish")
    return tap.stop(), sent


def cpu_by_role(stack: Stack) -> dict[str, float]:
    """CPU-seconds so far of the api, the orders workers and Redis: per order, they show
    where the time goes better than wall throughput on a shared 2-core box."""
    redis_proc = Proc("redis", stack.redis_proc, stack.tmp / "redis.log")
    return {
        "api": tree_cpu([p for p in stack.procs if p.name == "api"]),
        "workers": tree_cpu([p for p in stack.procs if p.name != "api"]),
        "redis": tree_cpu([redis_proc]),
    }


def end_to_end(
    stack: Stack, n: int, clients: int, batch: int
) -> tuple[float, list[float], int, dict[str, float]]:
    """(orders/s from first request to last match, latency sample, events published, CPU
    microseconds per order by role)."""
    stack.reset()
    rng = random.Random(2)
    created = [
        create_key(stack.client, stack.settings.secret("key_secret"), f"c{i}")
        for i in range(clients)
    ]
    keys = [key for key, _ in created]
    work = [[random_order(rng) for _ in range(n // clients)] for _ in range(clients)]
    tap = LatencyTap(stack.client, created[0][1].principal_id)
    stack.client.config_resetstat()
    cpu_before = cpu_by_role(stack)
    start = time.perf_counter()
    threads = [
        threading.Thread(target=post_batches, args=(stack.url, k, w, batch))
        for k, w in zip(keys, work, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_for(lambda: drained(stack.client), 300, "matching to finish", interval=END_POLL)
    elapsed = time.perf_counter() - start
    cpu = {role: (used - cpu_before[role]) / n * 1e6 for role, used in cpu_by_role(stack).items()}
    latencies = tap.stop()
    return n / elapsed, latencies, events_published(stack.client), cpu


def events_published(client: redis.Redis) -> int:
    """PUBLISH calls since the run's reset (each committed event is published once)."""
    stats: dict[str, Any] = client.info("commandstats")  # type: ignore[assignment]
    return int(stats.get("cmdstat_publish", {}).get("calls", 0))


def one_task_per_order(stack: Stack, n: int, clients: int) -> float:
    """Baseline: orders accepted straight into Redis (no HTTP) and one match task sent per order.

    Run as a competent user would: `clients` threads (our side's concurrency), each with one
    event loop and one Redis connection for all its orders and one Celery producer, sending the
    same order mix (half IOC) as our side.
    """
    stack.reset()
    rng = random.Random(3)
    work = [[random_order(rng) for _ in range(n // clients)] for _ in range(clients)]
    start = time.perf_counter()
    threads = [
        threading.Thread(target=baseline_client, args=(stack, i, orders))
        for i, orders in enumerate(work)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_for(lambda: drained(stack.client, "orders"), 600, "the baseline", interval=END_POLL)
    return n // clients * clients / (time.perf_counter() - start)


def baseline_client(stack: Stack, lane: int, orders: list[dict[str, Any]]) -> None:
    """One client of the baseline: accept each order, then send its match task, in turn."""
    import asyncio
    from decimal import Decimal

    import redis.asyncio as aioredis

    from jobcast.orders import intake

    app = Celery(f"bench{lane}")
    app.config_from_object(celeryconfig.config_for(stack.settings))

    async def run() -> None:
        client = aioredis.Redis.from_url(stack.redis.url, decode_responses=True)
        for i, order in enumerate(orders):
            rules = DEFAULT_SYMBOLS[order["symbol"]]
            new = NewOrder(
                f"b{lane}-{i}",
                "bench",
                order["symbol"],
                Side(order["side"]),
                "limit",
                order["time_in_force"],
                order["quantity"],
                rules.to_ticks(Decimal(order["price"])),
                None,
            )
            await intake.accept_orders(client, [(new, rules)])
            # kombu's send blocks the loop briefly: nothing else runs on it, as in a serial client
            app.send_task("jobcast.orders.match", args=[order["symbol"]])
        await client.aclose()

    asyncio.run(run())


def alternated(
    stack: Stack, args: argparse.Namespace
) -> tuple[tuple[float, list[float], int, dict[str, float]], float]:
    """Both sides' runs, alternated over `args.rounds` (`bench.rounds.in_turn`): (our best
    run, the baseline's best orders/s). A side's first run on a fresh stack pays its processes'
    and Redis's start-up (heaps growing, first-touch pages): on this VM a second run of ours
    used half the CPU per order of the first."""
    runs: dict[str, Callable[[], Any]] = {
        "ours": lambda: end_to_end(stack, args.orders, args.clients, args.batch),
        "baseline": lambda: one_task_per_order(stack, args.baseline_orders, args.clients),
    }
    got: dict[str, list[Any]] = {name: [] for name in runs}
    for round_ in range(args.rounds):
        for name in in_turn(round_, list(runs)):
            got[name].append(runs[name]())
            rate = got[name][-1][0] if name == "ours" else got[name][-1]
            print(f"  round {round_ + 1}, {name}: {rate:,.0f} orders/s")
    return max(got["ours"], key=lambda run: run[0]), max(got["baseline"])


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else float("nan")  # type: ignore[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=40_000, help="orders in the end-to-end run")
    parser.add_argument("--baseline-orders", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=2, help="orders worker processes")
    parser.add_argument("--api-processes", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=500, help="orders per POST /orders/batch")
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternated rounds of each side (best kept)"
    )
    parser.add_argument("--paced-rate", type=int, default=1000, help="orders/s of the latency run")
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--json", type=Path, help="also write the figures here (make bench)")
    args = parser.parse_args()

    core = core_orders_per_second()
    print(f"matching core: {core:,.0f} orders/s (pure engine, one process)")
    stack = Stack(args.workers, args.api_processes)
    try:
        (rate, latencies, events, cpu), base = alternated(stack, args)
        print(
            f"end to end, POST /orders/batch ({args.batch}/request, {args.clients} clients, "
            f"{args.api_processes} api processes, {args.workers} workers, best of "
            f"{args.rounds}): {rate:,.0f} orders/s accepted and matched, {events:,} events "
            "published"
        )
        print(
            "  CPU per order: "
            + ", ".join(f"{role} {us:.0f} us" for role, us in cpu.items())
            + f", total {sum(cpu.values()):.0f} us"
        )
        print(
            f"  acceptance -> its matching event, at full load: p50 {pct(latencies, 50):.1f} ms, "
            f"p99 {pct(latencies, 99):.1f} ms over {len(latencies):,} orders"
        )
        paced, sent = paced_latency(stack, args.paced_rate, args.paced_seconds)
        print(
            f"  at {args.paced_rate:,} orders/s (20 per request, one client, {sent:,.0f}/s sent): "
            f"p50 "
            f"{pct(paced, 50):.1f} ms, p99 {pct(paced, 99):.1f} ms over {len(paced):,} orders"
        )
        print(
            f"baseline, one Celery task per order ({args.baseline_orders:,} orders, no HTTP, "
            f"{args.clients} clients each on one connection and loop, half IOC, best of "
            f"{args.rounds}): "
            f"{base:,.0f} orders/s  (batched path is {rate / base:.1f}x)"
        )
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "core": core,
                        "end_to_end": rate,
                        "baseline": base,
                        "paced_target": args.paced_rate,
                        "paced_sent": sent,
                        "paced_p50_ms": pct(paced, 50),
                        "paced_p99_ms": pct(paced, 99),
                    }
                )
            )
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
