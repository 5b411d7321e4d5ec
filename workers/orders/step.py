"""One matching step: feed a batch of inbound commands to the book and describe the commit.

Pure apart from the clock: the result is a `StepCommit` (records, book changes, trades,
events, market snapshot) that `store.commit_step` applies atomically.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from jobcast import rediskeys
from jobcast.compact_json import dumps
from jobcast.events import Event, market_channel, user_channel
from jobcast.orders import records
from jobcast.orders.encoding import NewOrder, decode_inbound
from jobcast.orders.enums import TERMINAL_STATUSES, OrderStatus
from jobcast.orders.market import BOOK_EVENT_LEVELS, book_view, public_trade, quote_view
from jobcast.orders.symbols import SymbolRules
from jobcast.rediskeys import OPEN_ORDERS_KEY, tombstone_key
from jobcast.tallies import MATCH_LAG_BUCKETS, MATCH_LAG_KEY, ORDERS_KEY, Tally, label, observations
from jobcast.tombstones import TOMBSTONE_EXTRA_SECONDS
from workers.orders.book import Book, Order, Trade
from workers.orders.store import Command, StepCommit, resting_entry


@dataclass(frozen=True)
class StepContext:
    symbol: str
    rules: SymbolRules
    token: str
    cursor: str
    lease_ms: int
    history: int
    depth_levels: int
    retention: int  # seconds an order's record is kept after it ends


def engine_order(sid: str, new: NewOrder) -> Order:
    """The engine's order for an accepted one; `sid`, its inbound log id, is its time priority."""
    return Order(
        new.id,
        new.side,
        new.quantity,
        new.price_ticks,
        new.type,
        new.time_in_force,
        new.owner,
        sid,
        new.client_order_id or "",
        self_trade_prevention=new.self_trade_prevention,
    )


def apply_commands(
    book: Book, symbol: str, commands: list[Command]
) -> tuple[dict[str, Order], list[Trade]]:
    """Run the batch through the book, in inbound order."""
    touched: dict[str, Order] = {}
    trades: list[Trade] = []
    for sid, kind, payload in commands:
        if kind == "new":
            trades += book.submit(engine_order(sid, decode_inbound(symbol, payload)), touched)
        else:
            book.cancel(payload, touched)
    return touched, trades


def _record_fields(order: Order, now: float) -> list[str]:
    """The record fields a step changes, as HSET takes them: field, value, field, value..."""
    return [
        "status",
        order.status,
        "filled_quantity",
        str(order.filled),
        "notional",
        str(order.notional),
        "reason",
        order.reason,
        "updated_at",
        repr(now),
    ]


def _state(symbol: str, order: Order, now: float) -> records.OrderState:
    """The order's public facts after this step (its creation time is the record's alone)."""
    return records.OrderState(
        id=order.id,
        client_order_id=order.client_order_id or None,
        symbol=symbol,
        side=order.side,
        type=order.kind,
        time_in_force=order.time_in_force,
        self_trade_prevention=order.self_trade_prevention,
        price_ticks=order.price,
        quantity=order.quantity,
        filled=order.filled,
        notional=order.notional,
        status=order.status,
        reason=order.reason,
        created_at=None,
        updated_at=now,
    )


def _stored_trade(
    ctx: StepContext, trade: Trade, touched: dict[str, Order], now: float
) -> dict[str, Any]:
    """The trade as kept in the symbol's list: its public fields, then its parties' (orders and
    owners), which `public_trade` leaves out of the tape."""
    return {
        "symbol": ctx.symbol,
        "seq": trade.seq,
        "price": ctx.rules.price_text(trade.price),
        "quantity": trade.quantity,
        "taker_side": trade.taker_side,
        "ts": now,
        "buy_order_id": trade.buy_order_id,
        "sell_order_id": trade.sell_order_id,
        "buy_owner": touched[trade.buy_order_id].owner,
        "sell_owner": touched[trade.sell_order_id].owner,
    }


def market_snapshot(ctx: StepContext, book: Book) -> dict[str, str]:
    """The market hash fields after the step; prices in ticks, depth as [[ticks, qty], ...]."""
    bids, asks = book.bids.depth(ctx.depth_levels), book.asks.depth(ctx.depth_levels)
    return {
        "trade_seq": str(book.trade_seq),
        "volume": str(book.volume),
        "last_price": "" if book.last_price is None else str(book.last_price),
        "bids": json.dumps(bids),
        "asks": json.dumps(asks),
    }


def build_commit(
    ctx: StepContext,
    book: Book,
    touched: dict[str, Order],
    trades: list[Trade],
    new_cursor: str,
    previous: dict[str, str],
) -> StepCommit:
    now = time.time()
    change = StepCommit(
        ctx.symbol,
        ctx.token,
        ctx.cursor,
        new_cursor,
        ctx.lease_ms,
        ctx.history,
        market={**market_snapshot(ctx, book), "cursor": new_cursor},
        retention=ctx.retention,
        tombstone_ttl=ctx.retention + TOMBSTONE_EXTRA_SECONDS,
    )
    for order in touched.values():
        _add_order_change(ctx, change, book, order, now)
    market = market_channel(ctx.symbol)
    for trade in trades:
        stored = _stored_trade(ctx, trade, touched, now)
        change.trades.append(dumps(stored))
        public = public_trade(stored)
        change.events.append((market, Event(market, "market.trade", public, ts=now).body()))
    quote = quote_view(ctx.symbol, ctx.rules, change.market)
    if quote != quote_view(ctx.symbol, ctx.rules, previous):
        change.events.append((market, Event(market, "market.quote", quote, ts=now).body()))
    # Depth behind the best changes with no quote (an order resting behind it, a cancel there):
    # a ladder kept from events alone would miss it.
    shown = book_view(ctx.symbol, ctx.rules, change.market, BOOK_EVENT_LEVELS)
    if shown != book_view(ctx.symbol, ctx.rules, previous, BOOK_EVENT_LEVELS):
        change.events.append((market, Event(market, "market.book", shown, ts=now).body()))
    change.tallies = outcome_tallies(touched.values(), len(trades))
    return change


def outcome_tallies(orders: Collection[Order], trades: int) -> list[Tally]:
    """Counters of the orders that ended in this step (by reason and by owner), and of its
    trades."""
    ended = Counter(
        order.status
        if order.status == OrderStatus.FILLED
        else label(order.status, order.reason or "requested")
        for order in orders
        if order.status in TERMINAL_STATUSES
    )
    tallies = [Tally(ORDERS_KEY, name, count) for name, count in sorted(ended.items())]
    # Each owner's open orders, raised by the script that accepted them, go down as they end.
    owners = Counter(order.owner for order in orders if order.status in TERMINAL_STATUSES)
    tallies += [Tally(OPEN_ORDERS_KEY, owner, -count) for owner, count in sorted(owners.items())]
    return tallies + ([Tally(ORDERS_KEY, "trades", trades)] if trades else [])


def matching_lag(commands: list[Command], now: float) -> list[Tally]:
    """Time from each new order's acceptance (its inbound log id is Redis' clock then, in ms)
    to this step, for the matching lag histogram."""
    lags = [now - int(sid.partition("-")[0]) / 1000 for sid, kind, _ in commands if kind == "new"]
    return observations(MATCH_LAG_KEY, "", MATCH_LAG_BUCKETS, lags)


def _add_order_change(
    ctx: StepContext, change: StepCommit, book: Book, order: Order, now: float
) -> None:
    if order.id in book.resting:
        change.book_set.append((order.id, resting_entry(order)))
    else:
        change.book_del.append(order.id)
    if order.status == OrderStatus.OPEN:  # rested unfilled: nothing new since `order.accepted`
        return
    record_key = rediskeys.order_key(order.id)
    change.records.append((record_key, _record_fields(order, now)))
    if order.status in TERMINAL_STATUSES:
        change.expiring.append(record_key)
        if order.client_order_id:
            # Expires with the order: afterwards the id may name a new order.
            change.expiring.append(
                rediskeys.client_order_id_key(order.owner, order.client_order_id)
            )
        change.tombstones.append((tombstone_key(record_key), order.owner))
    view = records.order_view(_state(ctx.symbol, order, now), ctx.rules)
    channel = user_channel(order.owner)
    change.events.append((channel, Event(channel, f"order.{order.status}", view, ts=now).body()))
