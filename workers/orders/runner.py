"""Drain a symbol's inbound log as its single writer, step by step.

One worker at a time holds a symbol's lease (a fencing token in Redis); a redelivered task
(same task id) may take its own lease back after its process died. The holder reads the
commands after the committed cursor, matches them and commits, until the log is drained;
it releases the lease only in a script that sees nothing new arrived, so an order appended
meanwhile is never left without a worker.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis

from jobcast import rediskeys, scripts
from jobcast.orders.symbols import symbol_table
from jobcast.rediskeys import order_fence_key, order_lease_key
from jobcast.settings import Settings
from workers.orders.book import Book
from workers.orders.step import StepContext, apply_commands, build_commit, matching_lag
from workers.orders.store import (
    Inbound,
    StepRefusedError,
    commit_step,
    load_book,
    parse_inbound,
    read_inbound,
)

log = logging.getLogger("jobcast.orders")

#: Books this process committed last, by symbol, with the cursor they correspond to. A step
#: reuses its book when the committed cursor is still that one; anything else reloads it.
_books: dict[str, tuple[str, Book, dict[str, str]]] = {}


@dataclass(frozen=True)
class DrainOutcome:
    steps: int
    commands: int
    #: "drained" (or handed to the lease holder), "busy" (another worker holds the lease),
    #: "budget" (steps ran out with work left: requeue so other symbols get a turn).
    state: str


def acquire_lease(client: redis.Redis, symbol: str, task_id: str, lease_ms: int) -> str:
    """The lease's token, or '' when another task holds it; lowers the pending flag either way
    (orders accepted after this send a new task)."""
    return _take_lease(client, symbol, task_id, lease_ms, None)[0]


def _take_lease(
    client: redis.Redis, symbol: str, task_id: str, lease_ms: int, count: int | None
) -> tuple[str, Inbound | None]:
    """`acquire_lease`; with `count`, also the first batch to match, read in the same script
    under the new lease (one round trip fewer per task)."""
    keys = [
        order_lease_key(symbol),
        order_fence_key(symbol),
        rediskeys.pending_key(symbol),
        rediskeys.market_key(symbol),
        rediskeys.inbound_key(symbol),
    ]
    argv = [task_id, str(lease_ms), *([str(count)] if count else [])]
    token, _, batch = str(scripts.run(client, "order_lease_acquire", keys, argv)).partition("\n")
    return token, parse_inbound(batch) if token and count else None


def release_lease(client: redis.Redis, symbol: str, token: str) -> int:
    keys = [order_lease_key(symbol), rediskeys.inbound_key(symbol), rediskeys.market_key(symbol)]
    return int(scripts.run(client, "order_lease_release", keys, [token]))


def drop_lease(client: redis.Redis, symbol: str, token: str) -> None:
    """Give the lease up with work left (the caller requeues): only if it is still ours."""
    scripts.run(client, "delete_if_holder", [order_lease_key(symbol)], [token])


def _book_at(client: redis.Redis, symbol: str, cursor: str) -> tuple[Book, dict[str, str]]:
    """The book at the committed `cursor`: ours from the last step, or reloaded from Redis."""
    cached = _books.pop(symbol, None)
    if cached is not None and cached[0] == cursor:
        return cached[1], cached[2]
    return load_book(client, symbol)


def run_step(client: redis.Redis, settings: Settings, symbol: str, token: str) -> int:
    """Match and commit the next batch, keeping the lease; the number of commands it took
    (0: log drained)."""
    return _step(client, settings, symbol, token, release=False)[0]


def _step(
    client: redis.Redis,
    settings: Settings,
    symbol: str,
    token: str,
    release: bool,
    batch: Inbound | None = None,
) -> tuple[int, bool]:
    """`run_step`; with `release`, a batch that drained the log lets the lease go in its
    commit, saving the next read and the release (then the second value is True). `batch`:
    the commands already read under this lease, if any."""
    # Holding the lease, nobody else moves the cursor between these two reads.
    cursor, entries = batch or read_inbound(client, symbol, settings.order_match_batch)
    book, market = _book_at(client, symbol, cursor)
    if not entries:
        _books[symbol] = (cursor, book, market)
        return 0, False
    ctx = StepContext(
        symbol,
        symbol_table(settings.order_symbols)[symbol],
        token,
        cursor,
        settings.order_lease_ms,
        settings.order_trade_history,
        settings.order_depth_levels,
        settings.order_retention,
    )
    touched, trades = apply_commands(book, symbol, entries)
    new_cursor = entries[-1][0]
    change = build_commit(ctx, book, touched, trades, new_cursor, market)
    change.tallies += matching_lag(entries, time.time())
    # A short batch read the whole log: most likely nothing arrived since.
    change.release = release and len(entries) < settings.order_match_batch
    released = commit_step(client, change)  # the book stays out of the cache if this raises
    _books[symbol] = (new_cursor, book, change.market)
    return len(entries), released


def drain(client: redis.Redis, settings: Settings, symbol: str, task_id: str) -> DrainOutcome:
    """Drain `symbol` as its single writer, for at most `order_task_max_steps` steps."""
    lease_ms, count = settings.order_lease_ms, settings.order_match_batch
    token, batch = _take_lease(client, symbol, task_id, lease_ms, count)
    if not token:
        return DrainOutcome(0, 0, "busy")
    steps = commands = 0
    try:
        while steps < settings.order_task_max_steps:
            taken, released = _step(client, settings, symbol, token, release=True, batch=batch)
            batch = None
            steps, commands = steps + 1, commands + taken
            if released or (taken == 0 and release_lease(client, symbol, token) != 0):
                return DrainOutcome(steps, commands, "drained")
    except StepRefusedError:
        log.warning("matching step on %s refused; the lease holder redoes it", symbol)
        return DrainOutcome(steps, commands, "drained")
    drop_lease(client, symbol, token)
    return DrainOutcome(steps, commands, "budget")
