"""The `orders` queue's task: drain one symbol's inbound orders as its single writer.

Thin on purpose: the lease, the steps and the commit live in `runner`, the matching in `book`.
"""

from __future__ import annotations

from typing import Any

from workers.app import app
from workers.context import worker_context
from workers.orders.runner import drain

#: Set while a delayed check of a busy symbol is scheduled, so waiting tasks schedule one, not many.
WATCH_PREFIX = "jobcast:orders:watch:"


@app.task(name="jobcast.orders.match", bind=True)  # type: ignore[untyped-decorator]
def match_symbol(self: Any, symbol: str) -> dict[str, Any]:
    """Match everything accepted for `symbol` that is not matched yet."""
    ctx = worker_context()
    outcome = drain(ctx.redis, ctx.settings, symbol, str(self.request.id))
    if outcome.state == "budget":
        match_symbol.apply_async(args=[symbol])
    elif outcome.state == "busy":
        _watch_busy_symbol(symbol, ctx.settings.order_lease_ms)
    return {"symbol": symbol, "steps": outcome.steps, "commands": outcome.commands,
            "state": outcome.state}  # fmt: skip


def _watch_busy_symbol(symbol: str, lease_ms: int) -> None:
    # The holder normally drains what we were sent for. If it died, its lease expires and this
    # delayed run takes over; without it, orders would wait for the next order to arrive.
    ctx = worker_context()
    if ctx.redis.set(WATCH_PREFIX + symbol, "1", nx=True, px=lease_ms):
        match_symbol.apply_async(args=[symbol], countdown=lease_ms / 1000 + 0.5)
