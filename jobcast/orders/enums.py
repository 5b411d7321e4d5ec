"""Order statuses and sides: the one list the api, the matching engine, the records and the
Lua scripts (which name these classes in a comment where they test a status) agree on.

`str` enums: a member is its text, so it goes into JSON, Redis and event types as-is, and text
read back compares equal to it.
"""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    """Where an order stands; each change is announced as `order.<status>` (an order that
    rests unfilled stays `open`, announced by `order.accepted`)."""

    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


#: States an order never leaves.
TERMINAL_STATUSES = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED})


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"
