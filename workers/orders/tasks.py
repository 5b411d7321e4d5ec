"""The `orders` queue's task: drain one symbol's inbound orders as its single writer.

Thin on purpose: the lease, the steps and the commit live in `runner`, the matching in `book`.
The same work runs under two names: `jobcast.orders.match`, and `jobcast.demo.match` when the
demo market maker kicked it, so operators can tell the demo's steady stream apart in Flower.
"""

from __future__ import annotations

import logging
from typing import Any

import redis

from jobcast.redis_clients import redis_problem
from jobcast.rediskeys import order_watch_key
from jobcast.task_failure import TaskFailedError
from jobcast.task_names import DEMO_MATCH_TASK, MATCH_TASK, match_argsrepr
from workers.app import app
from workers.context import worker_context
from workers.orders.runner import drain

log = logging.getLogger("jobcast.orders")


def match(task: Any, symbol: str) -> dict[str, Any]:
    """Match everything accepted for `symbol` that is not matched yet."""
    ctx = worker_context()
    try:
        outcome = drain(ctx.redis, ctx.settings, symbol, str(task.request.id))
    except Exception as exc:
        # Nothing was committed past the last good step; the next task for the symbol redoes it.
        unavailable = isinstance(exc, redis.RedisError)
        code = "redis_unavailable" if unavailable else "internal_error"
        # Behind Sentinel a Redis error's text is kilobytes of client reprs: one line instead.
        said = redis_problem(exc, where=True) if unavailable else str(exc)
        log.warning("matching %s failed: %s: %s", symbol, code, said, exc_info=not unavailable)
        raise TaskFailedError.from_error(code, f"{type(exc).__name__}: {said}"[:500]) from exc
    if outcome.state == "budget":
        _resend(task, symbol, "requeued")
    elif outcome.state == "busy":
        _watch_busy_symbol(task, symbol, ctx.settings.order_lease_ms)
    return {
        "symbol": symbol,
        "steps": outcome.steps,
        "commands": outcome.commands,
        "state": outcome.state,
    }


@app.task(name=MATCH_TASK, bind=True)  # type: ignore[untyped-decorator]
def match_symbol(self: Any, symbol: str) -> dict[str, Any]:
    """Match everything accepted for `symbol` that is not matched yet."""
    return match(self, symbol)


@app.task(name=DEMO_MATCH_TASK, bind=True)  # type: ignore[untyped-decorator]
def match_symbol_for_demo(self: Any, symbol: str) -> dict[str, Any]:
    """`match_symbol`, kicked by the demo market maker."""
    return match(self, symbol)


def _resend(task: Any, symbol: str, why: str, countdown: float | None = None) -> None:
    # Under the task's own name: a drain the demo started stays labelled as the demo's.
    shown = match_argsrepr(symbol, worker_context().settings.order_match_batch, why)
    task.apply_async(args=[symbol], countdown=countdown, argsrepr=shown, kwargsrepr="{}")


def _watch_busy_symbol(task: Any, symbol: str, lease_ms: int) -> None:
    # The holder normally drains what we were sent for. If it died, its lease expires and this
    # delayed run takes over; without it, orders would wait for the next order to arrive.
    ctx = worker_context()
    if ctx.redis.set(order_watch_key(symbol), "1", nx=True, px=lease_ms):
        _resend(task, symbol, "lease check", countdown=lease_ms / 1000 + 0.5)
