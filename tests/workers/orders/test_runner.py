"""Matching steps against a real Redis: atomic commits, the lease, and redoing a lost step."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from jobcast import rediskeys
from jobcast.events import read_since
from jobcast.orders import intake
from jobcast.orders.encoding import NewOrder
from jobcast.orders.enums import Side
from jobcast.orders.symbols import DEFAULT_SYMBOLS
from jobcast.rediskeys import order_lease_key, tombstone_key
from jobcast.settings import Settings
from workers.orders import runner
from workers.orders.store import StepRefusedError

SYMBOL = "SOL-USD"


@pytest.fixture(autouse=True)
def fresh_book_cache() -> Iterator[None]:
    runner._books.clear()
    yield
    runner._books.clear()


def new_order(order_id: str, side: str, quantity: int, price: int | None) -> NewOrder:
    kind, tif = ("limit", "GTC") if price else ("market", "IOC")
    return NewOrder(order_id, "p1", SYMBOL, Side(side), kind, tif, quantity, price, None)


def accept(settings: Settings, *orders: tuple[str, str, int, int | None]) -> list[str]:
    """Accept (id, side, quantity, price ticks) orders for SOL-USD by owner "p1"."""
    return accept_new(settings, *(new_order(*order) for order in orders))


def accept_new(settings: Settings, *new: NewOrder) -> list[str]:
    async def run() -> list[str]:
        client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        accepted = await intake.accept_orders(client, [(o, DEFAULT_SYMBOLS[SYMBOL]) for o in new])
        await client.aclose()
        return [a.order_id for a in accepted]

    return asyncio.run(run())


def statuses(client: redis.Redis, *ids: str) -> list[tuple[str, str]]:
    """Each order's (status, filled quantity); a new order's record has no fills field yet."""
    return [
        (
            str(client.hget(rediskeys.order_key(i), "status")),
            str(client.hget(rediskeys.order_key(i), "filled_quantity") or "0"),
        )
        for i in ids
    ]


def types(client: redis.Redis, channel: str) -> list[str]:
    events: list[dict[str, Any]] = read_since(client, channel, "0-0")
    return [e["type"] for e in events]


def test_drain_commits_fills_trades_market_and_events_together(
    redis_client: redis.Redis, settings: Settings
) -> None:
    accept(settings, ("a", "sell", 5, 2000), ("b", "buy", 3, 2100))

    outcome = runner.drain(redis_client, settings, SYMBOL, "task-1")

    assert (outcome.state, outcome.commands) == ("drained", 2)
    assert statuses(redis_client, "a", "b") == [("partially_filled", "3"), ("filled", "3")]
    fills = ["order.partially_filled", "order.filled"]
    assert types(redis_client, "user.p1") == ["order.accepted"] * 2 + fills
    kinds = ["market.trade", "market.quote", "market.book"]
    assert types(redis_client, f"market.{SYMBOL}") == kinds
    market = redis_client.hgetall(rediskeys.market_key(SYMBOL))
    assert (market["trade_seq"], market["volume"], market["last_price"]) == ("1", "3", "2000")
    assert redis_client.exists(order_lease_key(SYMBOL)) == 0
    assert redis_client.hkeys(rediskeys.book_key(SYMBOL)) == ["a"]


def test_depth_behind_the_best_is_pushed_as_the_book_with_no_quote(
    redis_client: redis.Redis, settings: Settings
) -> None:
    accept(settings, ("best", "buy", 5, 2000))
    runner.drain(redis_client, settings, SYMBOL, "task-1")
    channel = f"market.{SYMBOL}"
    seen = len(read_since(redis_client, channel, "0-0"))

    accept(settings, ("behind", "buy", 7, 1990), ("also", "buy", 1, 2000))
    runner.drain(redis_client, settings, SYMBOL, "task-2")

    # The best bid's size changed: a quote; the level behind it changed too: the book.
    later = read_since(redis_client, channel, "0-0")[seen:]
    assert [e["type"] for e in later] == ["market.quote", "market.book"]
    assert later[1]["data"] == {
        "symbol": SYMBOL,
        "bids": [{"price": "20.00", "quantity": 6}, {"price": "19.90", "quantity": 7}],
        "asks": [],
    }
    # Only behind the best: the book alone.
    accept(settings, ("deeper", "buy", 2, 1980))
    runner.drain(redis_client, settings, SYMBOL, "task-3")
    last = read_since(redis_client, channel, "0-0")[seen + 2 :]
    assert [e["type"] for e in last] == ["market.book"]
    assert last[0]["data"]["bids"][-1] == {"price": "19.80", "quantity": 2}


def test_an_order_that_ends_expires_after_the_retention_and_leaves_a_tombstone(
    redis_client: redis.Redis, settings: Settings
) -> None:
    accept(settings, ("a", "sell", 5, 2000), ("b", "buy", 3, 2100))

    runner.drain(redis_client, settings, SYMBOL, "task-1")

    assert redis_client.ttl(rediskeys.order_key("a")) == -1  # partly filled, still resting
    assert 0 < redis_client.ttl(rediskeys.order_key("b")) <= settings.order_retention
    assert redis_client.get(tombstone_key(rediskeys.order_key("b"))) == "p1"
    assert redis_client.ttl(tombstone_key(rediskeys.order_key("b"))) > settings.order_retention


def test_step_of_a_worker_that_lost_its_lease_commits_nothing(
    redis_client: redis.Redis, settings: Settings
) -> None:
    accept(settings, ("a", "sell", 5, 2000), ("b", "buy", 5, 2000))
    stale = runner.acquire_lease(redis_client, SYMBOL, "slow-task", 60_000)
    redis_client.delete(order_lease_key(SYMBOL))  # its lease expired...
    runner.acquire_lease(redis_client, SYMBOL, "other-task", 60_000)  # ...and was taken

    with pytest.raises(StepRefusedError):
        runner.run_step(redis_client, settings, SYMBOL, stale)

    assert statuses(redis_client, "a", "b") == [("open", "0"), ("open", "0")]
    assert types(redis_client, f"market.{SYMBOL}") == []
    assert redis_client.hget(rediskeys.market_key(SYMBOL), "cursor") is None


def test_redelivered_task_takes_its_lease_back_and_redoes_the_lost_step(
    redis_client: redis.Redis, settings: Settings
) -> None:
    accept(settings, ("a", "sell", 5, 2000), ("b", "buy", 5, 2000))
    # A task took the lease and died before committing (its process was killed).
    runner.acquire_lease(redis_client, SYMBOL, "killed-task", 60_000)

    busy = runner.drain(redis_client, settings, SYMBOL, "another-task")
    redelivered = runner.drain(redis_client, settings, SYMBOL, "killed-task")

    assert busy.state == "busy"
    assert (redelivered.state, redelivered.commands) == ("drained", 2)
    assert statuses(redis_client, "a", "b") == [("filled", "5"), ("filled", "5")]
    assert types(redis_client, f"market.{SYMBOL}").count("market.trade") == 1


def test_lease_is_kept_while_orders_arrived_after_the_last_read(
    redis_client: redis.Redis, settings: Settings
) -> None:
    accept(settings, ("a", "sell", 5, 2000))
    token = runner.acquire_lease(redis_client, SYMBOL, "t", 60_000)
    assert runner.run_step(redis_client, settings, SYMBOL, token) == 1
    accept(settings, ("b", "buy", 2, 2000))

    assert runner.release_lease(redis_client, SYMBOL, token) == 0
    assert runner.run_step(redis_client, settings, SYMBOL, token) == 1
    assert runner.run_step(redis_client, settings, SYMBOL, token) == 0
    assert runner.release_lease(redis_client, SYMBOL, token) == 1


def test_book_is_rebuilt_in_time_priority_by_a_fresh_worker(
    redis_client: redis.Redis, settings: Settings
) -> None:
    accept(settings, ("a", "sell", 1, 2000), ("b", "sell", 1, 1990), ("c", "sell", 1, 2000))
    runner.drain(redis_client, settings, SYMBOL, "t1")
    runner._books.clear()  # as if another process runs the next step
    accept(settings, ("d", "buy", 3, 2000))

    runner.drain(redis_client, settings, SYMBOL, "t2")

    # Oldest first, as kept for their parties (the tape's events name no order).
    trades = [
        json.loads(t) for t in reversed(redis_client.lrange(rediskeys.trades_key(SYMBOL), 0, -1))
    ]
    assert [(t["sell_order_id"], t["seq"]) for t in trades] == [("b", 1), ("a", 2), ("c", 3)]


def test_task_gives_the_symbol_up_after_its_step_budget(
    redis_client: redis.Redis, settings: Settings
) -> None:
    short = settings.replace(order_task_max_steps=1, order_match_batch=1)
    accept(settings, ("a", "sell", 1, 2000), ("b", "sell", 1, 2000))

    first = runner.drain(redis_client, short, SYMBOL, "t1")
    assert (first.state, first.commands) == ("budget", 1)
    assert redis_client.exists(order_lease_key(SYMBOL)) == 0  # the requeued task can take it

    second = runner.drain(redis_client, settings, SYMBOL, "t2")
    assert (second.state, second.commands) == ("drained", 1)


def test_self_trade_prevention_survives_the_inbound_log_and_a_reloaded_book(
    redis_client: redis.Redis, settings: Settings
) -> None:
    oldest = dataclasses.replace(
        new_order("a", "sell", 5, 2000), self_trade_prevention="cancel_oldest"
    )
    newest = dataclasses.replace(
        new_order("b", "buy", 5, 2100), self_trade_prevention="cancel_newest"
    )
    accept_new(settings, oldest, newest)
    runner.drain(redis_client, settings, SYMBOL, "t1")
    runner._books.clear()  # the next step reloads "a" from the book hash
    accept(settings, ("c", "buy", 5, 2000))

    runner.drain(redis_client, settings, SYMBOL, "t2")

    assert statuses(redis_client, "a", "b", "c") == [
        ("filled", "5"),
        ("cancelled", "0"),
        ("filled", "5"),
    ]
    assert redis_client.hget(rediskeys.order_key("b"), "reason") == "self_trade"
    events = {
        e["data"]["id"]: e["data"]
        for e in read_since(redis_client, "user.p1", "0-0")
        if e["type"] != "order.accepted"
    }
    assert events["a"]["self_trade_prevention"] == "cancel_oldest"  # kept while it rested
    assert (events["b"]["self_trade_prevention"], events["b"]["reason"]) == (
        "cancel_newest",
        "self_trade",
    )
    assert events["c"]["self_trade_prevention"] == "none"


def test_an_inbound_entry_written_before_self_trade_prevention_matches_as_none(
    redis_client: redis.Redis, settings: Settings
) -> None:
    accept(settings, ("a", "sell", 5, 2000))
    # What older api code appended: eight fields, no self-trade prevention (same owner "p1").
    old_entry = '["b","p1","buy","limit",2000,5,"GTC",""]'
    redis_client.xadd(rediskeys.inbound_key(SYMBOL), {"c": "new", "o": old_entry})

    runner.drain(redis_client, settings, SYMBOL, "t1")

    assert statuses(redis_client, "a", "b") == [("filled", "5"), ("filled", "5")]
