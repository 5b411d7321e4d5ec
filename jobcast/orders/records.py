"""Redis keys of the order store, and the public view of an order record.

An order record is a hash written whole by the api when the order is accepted; afterwards only
the matching step of its symbol changes it (status, fills, reason), always in the same Lua
script that changes the book and publishes the events.
"""

from __future__ import annotations

from typing import Any

from jobcast.orders.symbols import SymbolRules

#: Order states and the event type announcing each (an order that rests unfilled stays "open").
STATUSES = ("open", "partially_filled", "filled", "cancelled", "rejected")
TERMINAL_STATUSES = frozenset({"filled", "cancelled", "rejected"})


def order_key(order_id: str) -> str:
    return f"jobcast:order:{order_id}"


def owner_index_key(principal_id: str) -> str:
    """Sorted set (all scores 0) of `<created ms>:<order id>`, walked by ZRANGEBYLEX."""
    return f"jobcast:orders:owner:{principal_id}"


def client_order_id_key(principal_id: str, client_order_id: str) -> str:
    return f"jobcast:orders:cid:{principal_id}:{client_order_id}"


def inbound_key(symbol: str) -> str:
    """The symbol's inbound log (a stream): accepted orders and cancels, in matching order."""
    return f"jobcast:orders:in:{symbol}"


def pending_key(symbol: str) -> str:
    """Set while a matching task for the symbol is queued but not started: one send covers many orders."""
    return f"jobcast:orders:pending:{symbol}"


def market_key(symbol: str) -> str:
    """Hash: committed cursor into the inbound log, trade sequence, last price, top of book, depth."""
    return f"jobcast:market:{symbol}"


def book_key(symbol: str) -> str:
    """Hash: resting order id -> its compact state, enough to rebuild the book in a fresh worker."""
    return f"jobcast:book:{symbol}"


def trades_key(symbol: str) -> str:
    """List of recent trades, newest first."""
    return f"jobcast:market:{symbol}:trades"


def _price(rules: SymbolRules, ticks: str) -> str | None:
    return rules.price_text(int(ticks)) if ticks else None


def average_price(rules: SymbolRules, filled: int, notional: int) -> str | None:
    if not filled:
        return None
    return str((rules.tick_size * notional / filled).quantize(rules.tick_size / 100))


def order_view(record: dict[str, str], rules: SymbolRules) -> dict[str, Any]:
    """What clients see of an order: in API answers and in `order.*` events."""
    quantity, filled = int(record["quantity"]), int(record.get("filled_quantity", "0"))
    status = record["status"]
    return {
        "id": record["id"],
        "client_order_id": record.get("client_order_id") or None,
        "symbol": record["symbol"],
        "side": record["side"],
        "type": record["type"],
        "time_in_force": record["time_in_force"],
        # Records written before the field existed are plain orders.
        "self_trade_prevention": record.get("self_trade_prevention") or "none",
        "price": _price(rules, record.get("price", "")),
        "quantity": quantity,
        "filled_quantity": filled,
        "remaining_quantity": 0 if status in TERMINAL_STATUSES else quantity - filled,
        "average_price": average_price(rules, filled, int(record.get("notional", "0"))),
        "status": status,
        "reason": record.get("reason") or None,
        "created_at": float(record["created_at"]),
        "updated_at": float(record.get("updated_at") or record["created_at"]),
    }
