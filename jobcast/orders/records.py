"""The public view of an order record (its Redis keys are in `jobcast.rediskeys`).

An order record is a hash written by the api in one command when the order is accepted (a field
at its default left out); afterwards only the matching step of its symbol changes it (status,
fills, reason), always in the same Lua script that changes the book and publishes the events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobcast.orders.encoding import NewOrder
from jobcast.orders.enums import TERMINAL_STATUSES, OrderStatus, Side
from jobcast.orders.symbols import SymbolRules


def average_price(rules: SymbolRules | None, filled: int, notional: int) -> str | None:
    """The fills' average, to a hundredth of the tick where it needs that (101.255), written to
    the tick where it lands on one (101.50, as a price is, not 101.5000)."""
    if not filled or rules is None:
        return None
    exact = (rules.tick_size * notional / filled).quantize(rules.tick_size / 100)
    on_tick = exact.quantize(rules.tick_size)
    # Off the tick, the value has a fraction: normalize() only drops its trailing zeros (it
    # writes an exponent for whole numbers alone, which are on a tick of 1 or less).
    return str(on_tick if on_tick == exact else exact.normalize())


def price_text(rules: SymbolRules | None, ticks: int | None) -> str | None:
    """A stored price (in ticks) as the API shows it; None for a market order, and for an order
    whose symbol has no rules any more (removed from `JOBCAST_ORDER_SYMBOLS`): its tick size is
    not stored with the order, and the ticks shown as a price would be off by that factor, so
    no price is told rather than a wrong one."""
    if ticks is None or rules is None:
        return None
    return rules.price_text(ticks)


# Not frozen: one is built per order, and a frozen dataclass sets each field through
# object.__setattr__, about three times the cost of a plain slotted one.
@dataclass(slots=True)
class OrderState:
    """What an order's public view is made of, as typed values: read from its record by the
    api (`state_from_record`), or taken from the engine's order by the matching step."""

    id: str
    client_order_id: str | None
    symbol: str
    side: Side
    type: str
    time_in_force: str
    self_trade_prevention: str
    price_ticks: int | None
    quantity: int
    filled: int
    notional: int  # sum of price * quantity over fills, in ticks
    status: OrderStatus
    reason: str
    created_at: float | None  # None: not known (the matching step's events leave it out)
    updated_at: float


def state_from_record(record: dict[str, str]) -> OrderState:
    """An order record read back from Redis (as `NewOrder.record` and the step wrote it); a
    field left out is at its default."""
    price = record.get("price", "")
    return OrderState(
        id=record["id"],
        client_order_id=record.get("client_order_id") or None,
        symbol=record["symbol"],
        side=Side(record["side"]),
        type=record["type"],
        time_in_force=record["time_in_force"],
        self_trade_prevention=record.get("self_trade_prevention") or "none",
        price_ticks=int(price) if price else None,
        quantity=int(record["quantity"]),
        filled=int(record.get("filled_quantity", "0")),
        notional=int(record.get("notional", "0")),
        status=OrderStatus(record["status"]),
        reason=record.get("reason", ""),
        created_at=float(record["created_at"]),
        updated_at=float(record.get("updated_at") or record["created_at"]),
    )


def accepted_state(order: NewOrder, now: float) -> OrderState:
    """A new order's state as `NewOrder.record` writes it, without reading the record back."""
    return OrderState(
        id=order.id,
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        type=order.type,
        time_in_force=order.time_in_force,
        self_trade_prevention=order.self_trade_prevention,
        price_ticks=order.price_ticks,
        quantity=order.quantity,
        filled=0,
        notional=0,
        status=OrderStatus.OPEN,
        reason="",
        created_at=now,
        updated_at=now,
    )


def order_view(order: OrderState, rules: SymbolRules | None) -> dict[str, Any]:
    """What clients see of an order: in API answers and in `order.*` events. Without `rules`
    (its symbol no longer traded) the stored quantities, status and times are shown as they
    are, and the prices are null (`price_text`)."""
    view = {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": order.side,
        "type": order.type,
        "time_in_force": order.time_in_force,
        "self_trade_prevention": order.self_trade_prevention,
        "price": price_text(rules, order.price_ticks),
        "quantity": order.quantity,
        "filled_quantity": order.filled,
        "remaining_quantity": 0
        if order.status in TERMINAL_STATUSES
        else order.quantity - order.filled,
        "average_price": average_price(rules, order.filled, order.notional),
        "status": order.status,
        "reason": order.reason or None,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }
    if order.created_at is None:
        del view["created_at"]
    return view


def record_view(record: dict[str, str], rules: SymbolRules | None) -> dict[str, Any]:
    """The public view of an order record as stored."""
    return order_view(state_from_record(record), rules)
