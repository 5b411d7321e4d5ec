"""The demo market maker keeps books alive: quotes rest, crossing orders trade."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable

import redis
import redis.asyncio as aioredis

from jobcast import rediskeys
from jobcast.settings import Settings
from jobcast.tallies import ORDERS_KEY
from workers.orders import demo, runner

#: The demo's order records kept (its ended orders would fill Redis within its retention).
MAX_RECORDS = 120


def test_demo_rounds_trade_and_keep_the_book_small(
    redis_client: redis.Redis, settings: Settings
) -> None:
    rng = random.Random(7)
    books = demo.demo_books(settings, rng)
    kicked: set[str] = set()

    def kick(symbols: Iterable[str]) -> None:
        kicked.update(symbols)

    async def rounds() -> None:
        client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        for _ in range(40):
            await demo.trade_round(client, books, rng, kick, max_records=MAX_RECORDS)
            for book in books:  # what the kicked workers would do
                runner.drain(redis_client, settings, book.symbol, "demo-test")
        await client.aclose()

    runner._books.clear()
    asyncio.run(rounds())
    runner._books.clear()

    assert kicked == {b.symbol for b in books}
    for book in books:
        market = redis_client.hgetall(rediskeys.market_key(book.symbol))
        assert int(market["trade_seq"]) > 0
        assert redis_client.hlen(rediskeys.book_key(book.symbol)) <= demo.MAX_QUOTES
    # 360 orders placed; its oldest ended ones went as the records passed the cap.
    index = rediskeys.orders_of_key(demo.DEMO_PRINCIPAL)
    assert redis_client.zcard(index) <= MAX_RECORDS
    assert int(redis_client.hget(ORDERS_KEY, "accepted") or 0) == 40 * 9
