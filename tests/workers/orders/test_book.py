"""The pure matching core: price-time priority, partial fills, market and IOC remainders."""

from __future__ import annotations

from workers.orders.book import (
    CANCELLED,
    FILLED,
    NO_LIQUIDITY,
    OPEN,
    PARTIALLY_FILLED,
    REJECTED,
    Book,
    Order,
)


def submit(book: Book, order: Order) -> dict[str, Order]:
    touched: dict[str, Order] = {}
    book.submit(order, touched)
    return touched


def test_resting_orders_fill_best_price_first_then_oldest_first() -> None:
    book = Book()
    submit(book, Order("s1", "sell", 5, price=101))
    submit(book, Order("s2", "sell", 5, price=100))
    submit(book, Order("s3", "sell", 5, price=100))

    touched: dict[str, Order] = {}
    trades = book.submit(Order("b1", "buy", 12, price=101), touched)

    assert [(t.maker_order_id, t.price, t.quantity) for t in trades] == [
        ("s2", 100, 5),
        ("s3", 100, 5),
        ("s1", 101, 2),
    ]
    assert [t.seq for t in trades] == [1, 2, 3]
    assert touched["s1"].status == PARTIALLY_FILLED
    assert touched["b1"].status == FILLED
    assert book.asks.depth(5) == [(101, 3)]


def test_trade_price_is_the_resting_orders_price() -> None:
    book = Book()
    submit(book, Order("b1", "buy", 1, price=105))
    trades = book.submit(Order("s1", "sell", 1, price=99), {})
    assert trades[0].price == 105
    assert trades[0].buy_order_id == "b1"
    assert trades[0].sell_order_id == "s1"


def test_unfilled_limit_gtc_remainder_rests() -> None:
    book = Book()
    submit(book, Order("s1", "sell", 3, price=100))
    taker = Order("b1", "buy", 5, price=100)
    submit(book, taker)
    assert taker.status == PARTIALLY_FILLED
    assert book.bids.depth(1) == [(100, 2)]


def test_ioc_remainder_is_cancelled_never_rests() -> None:
    book = Book()
    submit(book, Order("s1", "sell", 3, price=100))
    taker = Order("b1", "buy", 5, price=100, time_in_force="IOC")
    submit(book, taker)
    assert (taker.status, taker.filled, taker.remaining) == (CANCELLED, 3, 0)
    assert book.bids.depth(1) == []


def test_market_order_sweeps_levels_and_cancels_its_rest() -> None:
    book = Book()
    submit(book, Order("s1", "sell", 2, price=100))
    submit(book, Order("s2", "sell", 2, price=110))
    taker = Order("m1", "buy", 10, kind="market", time_in_force="IOC")
    trades = book.submit(taker, {})
    assert [(t.price, t.quantity) for t in trades] == [(100, 2), (110, 2)]
    assert (taker.status, taker.filled) == (CANCELLED, 4)
    assert book.asks.depth(1) == []
    assert book.bids.depth(1) == []


def test_market_order_on_empty_book_is_rejected_for_no_liquidity() -> None:
    taker = Order("m1", "sell", 1, kind="market", time_in_force="IOC")
    Book().submit(taker, {})
    assert (taker.status, taker.reason) == (REJECTED, NO_LIQUIDITY)


def test_cancel_removes_only_the_open_remainder() -> None:
    book = Book()
    maker = Order("s1", "sell", 10, price=100)
    submit(book, maker)
    submit(book, Order("b1", "buy", 4, price=100))
    cancelled = book.cancel("s1", {})
    assert cancelled is maker
    assert (maker.status, maker.filled, maker.remaining) == (CANCELLED, 4, 0)
    assert book.asks.depth(1) == []
    assert book.cancel("s1", {}) is None


def test_cancelled_order_is_skipped_by_later_takers() -> None:
    book = Book()
    submit(book, Order("s1", "sell", 1, price=100))
    submit(book, Order("s2", "sell", 1, price=100))
    book.cancel("s1", {})
    trades = book.submit(Order("b1", "buy", 1, price=100), {})
    assert trades[0].maker_order_id == "s2"


def test_non_crossing_orders_rest_on_both_sides() -> None:
    book = Book()
    bid = Order("b1", "buy", 1, price=99)
    submit(book, bid)
    submit(book, Order("s1", "sell", 1, price=100))
    assert bid.status == OPEN
    assert (book.bids.best(), book.asks.best()) == (99, 100)
