"""10,000 random orders (or more) through the api to 4 workers, one killed mid-way: the result
is exact.

Each symbol's inbound log fixes the order in which its commands were matched; the naive
reference model, fed what each trader sent (recorded by the test, never read back from the
system) in that order, must end with the same books, fills and order states (a quarter of the
orders use self-trade prevention), and every event must have been published once, in sequence.
"""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psutil
import pytest
import redis

from jobcast import rediskeys
from jobcast.orders.enums import TERMINAL_STATUSES
from jobcast.orders.market import names_an_order
from jobcast.orders.records import state_from_record
from jobcast.orders.symbols import DEFAULT_SYMBOLS
from jobcast.rediskeys import order_lease_key
from jobcast.settings import Settings
from tests.conftest import StartApi, StartWorkers
from tests.support.processes import Proc, wait_for
from tests.workers.orders.reference import ReferenceBook, RefOrder, stream_id
from tests.workers.orders.support import ORDER_ENV, EventTap, Trader, new_trader

SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD", "ACME"]
MID_TICKS = {"BTC-USD": 200, "ETH-USD": 2000, "SOL-USD": 2000, "ACME": 100}
TOTAL_ORDERS = 10_000
TRADERS = 4
BATCH = 100
#: Seconds between a trader's batches past its share of the 10,000: tasks keep coming for the
#: kill to catch, slower than matching goes (its backlog stays small).
EXTRA_BATCH_PAUSE = 0.5
#: One-command matching steps keep tasks running long enough to be killed in the middle of one
#: (and make many more commits to get wrong); a short lease lets a dead holder's symbol be
#: taken over quickly.
ENV = {**ORDER_ENV, "JOBCAST_ORDER_MATCH_BATCH": "1", "JOBCAST_ORDER_LEASE_MS": "2000"}


def random_order(rng: random.Random) -> dict[str, Any]:
    symbol = rng.choice(SYMBOLS)
    rules = DEFAULT_SYMBOLS[symbol]
    quantity = rng.randint(1, 20) * rules.lot_size
    order: dict[str, Any] = {
        "symbol": symbol,
        "side": rng.choice(["buy", "sell"]),
        "quantity": quantity,
    }
    if rng.random() < 0.25:  # four traders on four books: they often meet their own orders
        order["self_trade_prevention"] = rng.choice(["cancel_newest", "cancel_oldest"])
    if rng.random() < 0.08:
        return {**order, "type": "market"}
    ticks = MID_TICKS[symbol] + rng.randint(-8, 8)
    tif = "IOC" if rng.random() < 0.15 else "GTC"
    return {**order, "price": rules.price_text(ticks), "time_in_force": tif}


@dataclass
class Sent:
    """What one trader sent, by the order id the api answered with (the reference model's
    input: never read back from what the system stored)."""

    owner: str
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Orders whose cancel the api accepted (202).
    cancels: set[str] = field(default_factory=set)


def trade_flow(
    trader: Trader, seed: int, count: int, sent: list[int], record: Sent, more: threading.Event
) -> None:
    """Send `count` orders in batches, and more while `more` is set, cancelling one of our
    earlier orders now and then."""
    rng = random.Random(seed)
    mine: list[str] = []
    batches = 0
    while batches < count // BATCH or more.is_set():
        if batches >= count // BATCH:
            time.sleep(EXTRA_BATCH_PAUSE)
        batches += 1
        batch = [random_order(rng) for _ in range(BATCH)]
        response = trader.http.post("/orders/batch", json={"orders": batch})
        assert response.status_code == 200, response.text
        ids = [r["order"]["id"] for r in response.json()["results"]]
        record.orders.update(zip(ids, batch, strict=True))
        mine += ids
        sent.append(BATCH)
        for order_id in rng.sample(mine, 3):
            status = trader.http.delete(f"/orders/{order_id}").status_code
            assert status in (202, 409)
            if status == 202:
                record.cancels.add(order_id)


#: What Celery logs when a pool process dies running a task (not after it finished one).
def lost_mid_task(task_id: str) -> str:
    """The worker's line for a task whose pool process died while running it
    (`workers.death_logs`; one that died after the run ended says so instead)."""
    return f"[{task_id}]): its process died (SIGKILL), death"


def running_task(client: redis.Redis, workers: list[Proc]) -> tuple[Proc, str] | None:
    """A worker in the middle of a matching task, found by the lease its task holds."""
    for symbol in SYMBOLS:
        token = client.get(order_lease_key(symbol))
        task_id = token.rsplit(":", 1)[0] if token else None
        for worker in workers:
            log = worker.output()
            if task_id and f"[{task_id}] received" in log and f"[{task_id}] succeeded" not in log:
                return worker, task_id
    return None


def kill_mid_task(client: redis.Redis, workers: list[Proc], give_up_at: float) -> tuple[Proc, str]:
    """SIGKILL the pool process of a worker while it runs a matching task.

    A step takes milliseconds, so the task may finish between spotting it and the kill; then
    the kill hit an idle process (harmless: Celery replaces it) and we try again.
    """
    while time.monotonic() < give_up_at:
        hit = running_task(client, workers)
        pool = psutil.Process(hit[0].popen.pid) if hit else None
        children = live_children(pool) if pool else []
        if hit is None or pool is None or len(children) != 1:
            time.sleep(0.002)
            continue
        worker, task_id = hit
        lost_before = worker.output().count(lost_mid_task(task_id))
        children[0].send_signal(signal.SIGKILL)
        # The pool process logs a task's success itself: not logged yet, it died running it.
        finished = f"[{task_id}] succeeded" in worker.output()
        wait_for(lambda p=pool, c=children[0]: replaced(p, c), 30, "a new pool process")  # type: ignore[misc]
        if not finished and reported_lost(worker, task_id, lost_before):
            return worker, task_id
    raise AssertionError("never caught a worker in the middle of a matching task")


def reported_lost(worker: Proc, task_id: str, lost_before: int, timeout: float = 10) -> bool:
    """Whether the worker logs the task as lost, once it has noticed its dead pool process.

    The pool process logs a task's success before it reports the task done, so a kill that
    came after the task's end shows as its success line, which may reach the log only after
    the kill: a miss then costs no more than that. Beside three CPU burners, one kill in ~30
    showed neither line within the timeout; the traders go on until a kill lands, so such a
    miss is retried on a task still running (it used to fail the test: matching had ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = worker.output()
        if log.count(lost_mid_task(task_id)) > lost_before:
            return True
        if f"[{task_id}] succeeded" in log:
            return False
        time.sleep(0.05)
    return False


def replaced(pool: psutil.Process, killed: psutil.Process) -> bool:
    """The worker runs a new pool process in place of the killed one."""
    return [c.pid for c in live_children(pool)] not in ([], [killed.pid])


def live_children(pool: psutil.Process) -> list[psutil.Process]:
    """The worker's pool processes, leaving out those reaped between listing and asking."""
    alive = []
    for child in pool.children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                alive.append(child)
        except psutil.NoSuchProcess:
            continue
    return alive


def drained(client: redis.Redis) -> bool:
    for symbol in SYMBOLS:
        last = client.xrevrange(rediskeys.inbound_key(symbol), count=1)
        cursor = client.hget(rediskeys.market_key(symbol), "cursor")
        if last and last[0][0] != cursor:
            return False
    return True


def replay_sent(
    stored: list[dict[str, str]], sent: dict[str, tuple[str, dict[str, Any]]]
) -> ReferenceBook:
    """The reference model fed what the traders sent (owner, order), in acceptance order.

    Only the inbound log ids come from the system (`sid`, `cancel_sid`: the log itself is
    trimmed as it is matched); every field the model matches on is what the trader sent.
    """
    commands: list[tuple[tuple[int, int], str, str]] = []
    for o in stored:
        commands.append((stream_id(o["sid"]), "new", o["id"]))
        if o.get("cancel_sid"):
            commands.append((stream_id(o["cancel_sid"]), "cancel", o["id"]))
    ref = ReferenceBook()
    for _, kind, order_id in sorted(commands):
        if kind == "cancel":
            ref.cancel(order_id)
            continue
        owner, o = sent[order_id]
        rules = DEFAULT_SYMBOLS[o["symbol"]]
        type_ = o.get("type", "limit")
        price = rules.to_ticks(Decimal(o["price"])) if "price" in o else None
        tif = o.get("time_in_force") or ("IOC" if type_ == "market" else "GTC")
        ref.submit(
            RefOrder(
                order_id,
                o["side"],
                o["quantity"],
                price,
                type_,
                tif,
                owner,
                o.get("self_trade_prevention", "none"),
            )
        )
    return ref


@pytest.fixture
def tap(redis_client: redis.Redis) -> Iterator[EventTap]:
    """Every event published during the test, heard live."""
    listening = EventTap(redis_client).start()
    yield listening
    listening.stop()


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_ten_thousand_orders_with_a_killed_worker_match_the_reference_model(
    start_api: StartApi,
    start_workers: StartWorkers,
    redis_client: redis.Redis,
    settings: Settings,
    tap: EventTap,
) -> None:
    workers = start_workers(4, queues="orders", env=ENV)
    _, url = start_api(env=ENV)
    traders = [new_trader(redis_client, settings, url, f"t{i}") for i in range(TRADERS)]
    sent: list[int] = []
    records_sent = [Sent(t.principal_id) for t in traders]
    # Traders go on past 10,000 orders until the kill lands: a kill that misses (the task ended
    # first) is retried, and each retry needs a task still running.
    hunting = threading.Event()
    hunting.set()

    # When 4 traders send 10,000 orders at once and a worker's pool process is killed mid-way
    flows = [
        threading.Thread(target=trade_flow, args=(t, i, TOTAL_ORDERS // TRADERS, sent, r, hunting))
        for i, (t, r) in enumerate(zip(traders, records_sent, strict=True))
    ]
    for flow in flows:
        flow.start()
    try:
        wait_for(lambda: sum(sent) >= TOTAL_ORDERS // 4, 120, "a quarter of the orders to be sent")
        _, task_id = kill_mid_task(redis_client, workers, time.monotonic() + 60)
    finally:
        hunting.clear()
    for flow in flows:
        flow.join(timeout=180)
    wait_for(lambda: drained(redis_client), 90, "every symbol's inbound log to be matched")
    tap.catch_up()
    tap.stop()
    for trader in traders:
        trader.http.close()
    # The kill interrupted a matching task, which was delivered again and finished
    assert sum(w.output().count(f"[{task_id}] received") for w in workers) >= 2
    assert any(f"[{task_id}] succeeded" in w.output() for w in workers)

    # Then every order sent was accepted once, and every cancel the api accepted was logged
    by_id = {i: (r.owner, o) for r in records_sent for i, o in r.orders.items()}
    all_orders = [
        redis_client.hgetall(k)
        for k in redis_client.scan_iter(rediskeys.order_key("*"), _type="hash")
    ]
    assert len(by_id) == len(all_orders) == sum(sent) >= TOTAL_ORDERS
    assert sorted(o["id"] for o in all_orders) == sorted(by_id)
    cancelled = sorted(o["id"] for o in all_orders if o.get("cancel_sid"))
    assert cancelled == sorted(i for r in records_sent for i in r.cancels)

    # And each trader's count of open orders (JOBCAST_QUOTA_OPEN_ORDERS) is exactly its orders
    # still open: the killed step, redone, lowered none twice
    ended = {status.value for status in TERMINAL_STATUSES}
    still_open = Counter(o["owner"] for o in all_orders if o["status"] not in ended)
    counted = redis_client.hgetall(rediskeys.OPEN_ORDERS_KEY)
    owners = [t.principal_id for t in traders]
    assert {p: int(counted.get(p, 0)) for p in owners} == {p: still_open[p] for p in owners}

    # And each symbol ends exactly as the reference model fed what the traders sent, in order
    by_symbol: dict[str, list[dict[str, str]]] = defaultdict(list)
    for order in all_orders:
        by_symbol[order["symbol"]].append(order)
    for symbol in SYMBOLS:
        check_symbol(redis_client, symbol, by_symbol[symbol], by_id, tap)
    check_events_once_in_sequence(tap, all_orders)


def check_symbol(
    client: redis.Redis,
    symbol: str,
    orders: list[dict[str, str]],
    sent: dict[str, tuple[str, dict[str, Any]]],
    tap: EventTap,
) -> None:
    ref = replay_sent(orders, sent)
    for order in orders:
        expected = ref.orders[order["id"]]
        state = state_from_record(order)  # as the api reads it: a field left out is its default
        assert (state.status, state.filled, state.reason) == (
            expected.status,
            expected.filled,
            expected.reason,
        ), order
    channel = f"market.{symbol}"
    trade_events = tap.of(lambda e: e["channel"] == channel and e["type"] == "market.trade")
    trades = [e["data"] for e in trade_events]
    rules = DEFAULT_SYMBOLS[symbol]
    model = [(rules.price_text(t.price), t.quantity, t.buy, t.sell) for t in ref.trades]
    assert [(t["price"], t["quantity"]) for t in trades] == [m[:2] for m in model]
    assert [t for t in trades if names_an_order(t)] == []  # the tape names no order
    # The trades kept for their parties' fills do, as the model (the list is capped: its tail).
    key = rediskeys.trades_key(symbol)
    kept = [json.loads(t) for t in reversed(client.lrange(key, 0, -1))]
    named = [(t["price"], t["quantity"], t["buy_order_id"], t["sell_order_id"]) for t in kept]
    assert named == model[len(model) - len(kept) :]
    assert [t["seq"] for t in trades] == list(range(1, len(ref.trades) + 1))
    market = client.hgetall(rediskeys.market_key(symbol))
    assert market["bids"] == levels_text(ref, "buy")
    assert market["asks"] == levels_text(ref, "sell")
    assert set(client.hkeys(rediskeys.book_key(symbol))) == {o.id for o in ref.resting}
    bought = sum(state_from_record(o).filled for o in orders if o["side"] == "buy")
    sold = sum(state_from_record(o).filled for o in orders if o["side"] == "sell")
    assert bought == sold == int(market["volume"]) == sum(t.quantity for t in ref.trades)


def levels_text(ref: ReferenceBook, side: str) -> str:
    """The reference book's levels as the market hash stores them: `[[p, q], [p, q]]`."""
    return str([list(lv) for lv in ref.levels(side)]).replace(" ", "").replace(",", ", ")


def check_events_once_in_sequence(tap: EventTap, orders: list[dict[str, str]]) -> None:
    by_channel: dict[str, list[str]] = defaultdict(list)
    for event in tap.events:
        by_channel[event["channel"]].append(event["seq"])
    for channel, seqs in by_channel.items():
        keys = [stream_id(s) for s in seqs]
        assert keys == sorted(set(keys)), f"{channel}: events out of order or repeated"
    per_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in tap.of(lambda e: e["type"].startswith("order.")):
        per_order[event["data"]["id"]].append(event)
    for order in orders:
        events = per_order[order["id"]]
        assert events[0]["type"] == "order.accepted"
        assert [e["type"] for e in events].count("order.accepted") == 1
        fills = [e["data"]["filled_quantity"] for e in events]
        assert fills == sorted(fills), order["id"]
        changes = [(e["type"], e["data"]["filled_quantity"]) for e in events]
        assert len(changes) == len(set(changes)), f"{order['id']}: an event was repeated"
        if order["status"] in TERMINAL_STATUSES:
            assert events[-1]["type"] == f"order.{order['status']}"
            final = ("order.filled", "order.cancelled", "order.rejected")
            assert sum(e["type"] in final for e in events) == 1
