"""The soak's accounting: what was accepted against what Redis, the reference model, a fault-free
run and the WebSocket clients say happened."""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from jobcast import rediskeys
from jobcast.events import job_channel, market_channel
from jobcast.jobs.records import TERMINAL
from jobcast.orders.records import state_from_record
from jobcast.orders.symbols import DEFAULT_SYMBOLS
from jobcast.rediskeys import job_key, stream_key
from tests.workers.orders.reference import ReferenceBook, replay, stream_id

#: What legitimately differs between two runs of one file (timings, memory).
VARYING = ("duration_seconds", "cpu_seconds", "peak_rss_bytes")


@dataclass
class Tally:
    accepted: int = 0
    lost: int = 0
    duplicated: int = 0
    stuck: int = 0
    wrong: int = 0
    notes: list[str] = field(default_factory=list)

    def note(self, what: str, text: str) -> None:
        setattr(self, what, getattr(self, what) + 1)
        if len(self.notes) < 20:
            self.notes.append(f"{what}: {text}")


def stream(client: redis.Redis, channel: str) -> list[dict[str, Any]]:
    """Every event a channel's stream still holds, oldest first."""
    entries = client.xrange(stream_key(channel))
    return [{**json.loads(fields["e"]), "seq": sid} for sid, fields in entries]


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k not in VARYING}


def check_jobs(
    client: redis.Redis,
    jobs: dict[str, tuple[str, Path]],
    results: dict[str, Any],
    baseline: dict[Path, Any],
) -> Tally:
    """Each accepted job: one terminal event, `succeeded`, with the fault-free run's result."""
    tally = Tally(accepted=len(jobs))
    for job_id, (_, path) in jobs.items():
        status = client.hget(job_key(job_id), "status")
        ends = [
            e for e in stream(client, job_channel(job_id)) if e["data"].get("status") in TERMINAL
        ]
        if status is None:
            tally.note("lost", job_id)
        elif status not in TERMINAL:
            tally.note("stuck", f"{job_id} {status}")
        elif len(ends) > 1:
            tally.note("duplicated", f"{job_id}: {[e['type'] for e in ends]}")
        elif status != "succeeded" or len(ends) != 1:
            tally.note("wrong", f"{job_id} {status}, {len(ends)} terminal events")
        elif comparable(results[job_id]) != comparable(baseline[path]):
            tally.note("wrong", f"{job_id}: result differs from the fault-free run of {path.name}")
    return tally


def order_records(client: redis.Redis) -> dict[str, dict[str, str]]:
    found = (client.hgetall(k) for k in client.scan_iter(rediskeys.order_key("*"), _type="hash"))
    return {o["id"]: o for o in found if "id" in o}


def check_orders(client: redis.Redis, accepted: dict[str, tuple[str, str]]) -> Tally:
    """Each symbol's orders, trades and book against the reference model fed its commands in
    acceptance (inbound log) order."""
    tally = Tally(accepted=len(accepted))
    stored = order_records(client)
    for order_id in accepted.keys() - stored.keys():
        tally.note("lost", order_id)
    for order_id in stored.keys() - accepted.keys():
        tally.note("duplicated", f"{order_id} stored but never accepted")
    by_symbol: dict[str, list[dict[str, str]]] = defaultdict(list)
    for order in stored.values():
        by_symbol[order["symbol"]].append(order)
    for symbol, orders in by_symbol.items():
        if not drained(client, symbol):
            tally.note("stuck", f"{symbol}: accepted commands never matched")
            continue
        compare_symbol(client, symbol, orders, replay(orders), tally)
    return tally


def drained(client: redis.Redis, symbol: str) -> bool:
    last = client.xrevrange(rediskeys.inbound_key(symbol), count=1)
    return not last or last[0][0] == client.hget(rediskeys.market_key(symbol), "cursor")


def compare_symbol(
    client: redis.Redis, symbol: str, orders: list[dict[str, str]], ref: ReferenceBook, tally: Tally
) -> None:
    for order in orders:
        want = ref.orders[order["id"]]
        state = state_from_record(order)  # as the api reads it: a field left out is its default
        got = (str(state.status), state.filled, state.reason)
        if got != (want.status, want.filled, want.reason):
            tally.note(
                "wrong", f"{order['id']}: {got} != model {(want.status, want.filled, want.reason)}"
            )
    rules = DEFAULT_SYMBOLS[symbol]
    trades = [
        e["data"] for e in stream(client, market_channel(symbol)) if e["type"] == "market.trade"
    ]
    model = [(rules.price_text(t.price), t.quantity, t.buy, t.sell) for t in ref.trades]
    shown = [(t["price"], t["quantity"]) for t in trades]  # the tape names no order
    if shown != [m[:2] for m in model[len(model) - len(shown) :]]:  # capped: compare its tail
        tally.note("wrong", f"{symbol}: trades differ from the model")
    kept = [json.loads(t) for t in reversed(client.lrange(rediskeys.trades_key(symbol), 0, -1))]
    named = [(t["price"], t["quantity"], t["buy_order_id"], t["sell_order_id"]) for t in kept]
    if named != model[len(model) - len(named) :]:  # the orders of each kept trade, as the model
        tally.note("wrong", f"{symbol}: the kept trades' orders differ from the model")
    market = client.hgetall(rediskeys.market_key(symbol))
    for side, field_ in (("buy", "bids"), ("sell", "asks")):
        if json.loads(market.get(field_, "[]")) != [list(lv) for lv in ref.levels(side)]:
            tally.note("wrong", f"{symbol}: {field_} differ from the model")
    if set(client.hkeys(rediskeys.book_key(symbol))) != {o.id for o in ref.resting}:
        tally.note("wrong", f"{symbol}: resting orders differ from the model")


@dataclass
class WsTally:
    clients: int = 0
    events: int = 0
    missing: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    resyncs: int = 0
    sessions: int = 0
    terminal_job_events_missing: int = 0
    terminal_job_events_doubled: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


def check_ws(client: redis.Redis, clients: list[Any], jobs: dict[str, tuple[str, Path]]) -> WsTally:
    """Every client saw its channels' events once, in seq order; on `user.me` (followed from
    the start) every event, so each terminal job event and each order event exactly once."""
    tally = WsTally(clients=len(clients))
    for ws in clients:
        figures = ws.figures()
        tally.events += figures["events"]
        tally.resyncs += figures["resyncs"]
        tally.sessions += figures["sessions"]
        tally.errors += ws.errors
        for channel, seen in ws.seen.items():
            _check_channel(client, channel, seen, tally, complete=not channel.startswith("job."))
        _check_terminals(ws, jobs, tally)
    return tally


def _check_channel(
    client: redis.Redis, channel: str, seen: Any, tally: WsTally, complete: bool
) -> None:
    keys = [stream_id(s) for s in seen.seqs]
    doubled = sum(n - 1 for n in Counter(keys).values())
    tally.duplicated += doubled
    tally.out_of_order += sum(a > b for a, b in itertools.pairwise(keys))
    if not complete or seen.resyncs:
        return  # a resync says events were skipped: counted apart
    truth = [stream_id(e["seq"]) for e in stream(client, channel)]
    first = truth[0] if truth else (0, 0)
    missing = sorted(set(truth) - set(keys))
    # The stream is capped: what it dropped before the client read it cannot be checked.
    missing = [m for m in missing if m >= first]
    if missing:
        tally.missing += len(missing)
        tally.notes.append(
            f"{channel}: {len(missing)} events never delivered, first {missing[0]}, after "
            f"{max((k for k in keys if k < missing[0]), default=None)}"
        )


def _check_terminals(ws: Any, jobs: dict[str, tuple[str, Path]], tally: WsTally) -> None:
    user = ws.seen.get(ws.user)
    if user is None or user.resyncs:
        return
    ends = Counter(
        e["data"]["job_id"]
        for e in user.events
        if e["type"].startswith("job.") and e["data"].get("status") in TERMINAL
    )
    owner = ws.user
    for job_id, (principal, _) in jobs.items():
        if principal != ws.name:
            continue
        if ends[job_id] == 0:
            tally.terminal_job_events_missing += 1
            tally.notes.append(f"{owner}: no terminal event for {job_id}")
        elif ends[job_id] > 1:
            tally.terminal_job_events_doubled += 1
