"""Demo liquidity: a small market maker that keeps a few books alive and trading.

`jobcast up --demo` runs it as its own process (`python -m workers.orders.demo`). Each round it
moves every symbol's mid price a tick or so, quotes a few GTC orders on both sides, cancels its
oldest quotes so the book stays small, and sends one IOC order that crosses the spread, so
`market.trade` and `market.quote` events flow. It goes through the same intake as the api.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import redis.asyncio as aioredis

from jobcast.orders import intake
from jobcast.orders.encoding import NewOrder
from jobcast.orders.enums import Side
from jobcast.orders.symbols import SymbolRules, symbol_table
from jobcast.redis_clients import async_client
from jobcast.schemas.orders import TimeInForce
from jobcast.settings import Settings, get_settings
from jobcast.task_names import match_argsrepr

log = logging.getLogger("jobcast.orders.demo")

#: The principal the demo trades as (its orders show up on `user.demo-market-maker`).
DEMO_PRINCIPAL = "demo-market-maker"
#: Resting quotes kept per symbol; older ones are cancelled.
MAX_QUOTES = 30

Kick = Callable[[Iterable[str]], None]


@dataclass
class DemoBook:
    symbol: str
    rules: SymbolRules
    mid: int
    quotes: deque[str] = field(default_factory=deque)


def _order(
    book: DemoBook, rng: random.Random, side: Side, ticks: int, tif: TimeInForce
) -> NewOrder:
    lots = rng.randint(1, 5) * max(book.rules.lot_size, book.rules.min_quantity)
    return NewOrder(
        id=f"o_{rng.getrandbits(80):020x}",
        owner=DEMO_PRINCIPAL,
        symbol=book.symbol,
        side=side,
        type="limit",
        time_in_force=tif,
        quantity=lots,
        price_ticks=max(ticks, 1),
        client_order_id=None,
    )


def round_orders(book: DemoBook, rng: random.Random) -> list[NewOrder]:
    """This round's quotes around the (moved) mid, and one order that crosses the spread."""
    book.mid = max(10, book.mid + rng.choice([-1, 0, 0, 1]))
    quotes = [
        _order(book, rng, Side.BUY, book.mid - rng.randint(1, 4), "GTC"),
        _order(book, rng, Side.SELL, book.mid + rng.randint(1, 4), "GTC"),
    ]
    side = rng.choice([Side.BUY, Side.SELL])
    taker = _order(book, rng, side, book.mid + (5 if side == Side.BUY else -5), "IOC")
    return [*quotes, taker]


async def trade_round(
    client: aioredis.Redis,
    books: list[DemoBook],
    rng: random.Random,
    kick: Kick,
    max_records: int = 0,
) -> None:
    orders = [(o, b.rules, b) for b in books for o in round_orders(b, rng)]
    accepted = await intake.accept_orders(client, [(o, rules) for o, rules, _ in orders])
    # Its ended orders would fill Redis within a day of its retention (18 a second).
    await intake.trim_records(client, DEMO_PRINCIPAL, max_records)
    kicked = {o.symbol for (o, _, _), a in zip(orders, accepted, strict=True) if a.kicked}
    for order, _, book in orders:
        if order.time_in_force == "GTC":
            book.quotes.append(order.id)
    for book in books:
        while len(book.quotes) > MAX_QUOTES:
            _, again = await intake.request_cancel(
                client, DEMO_PRINCIPAL, book.quotes.popleft(), book.symbol
            )
            if again:
                kicked.add(book.symbol)
    kick(sorted(kicked))


def demo_books(settings: Settings, rng: random.Random, count: int = 3) -> list[DemoBook]:
    table = symbol_table(settings.order_symbols)
    return [DemoBook(s, table[s], mid=rng.randint(500, 2000)) for s in list(table)[:count]]


def _celery_kick(symbols: Iterable[str]) -> None:
    # The Celery app, only in the demo process. Its own task name keeps the demo's steady
    # stream of matching tasks apart from real traffic in Flower.
    from workers.orders.tasks import match_symbol_for_demo

    batch = get_settings().order_match_batch
    for symbol in symbols:
        shown = match_argsrepr(symbol, batch, "demo")
        match_symbol_for_demo.apply_async(args=[symbol], argsrepr=shown, kwargsrepr="{}")


async def run(settings: Settings, interval: float = 0.5, kick: Kick = _celery_kick) -> None:
    rng = random.Random()  # noqa: S311 - demo prices, not secrets
    books = demo_books(settings, rng)
    client = async_client(settings)
    log.info("demo market maker on %s", ", ".join(b.symbol for b in books))
    try:
        while True:
            await trade_round(client, books, rng, kick, settings.quota_order_records)
            await asyncio.sleep(interval)
    finally:
        await client.aclose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(run(get_settings()))
