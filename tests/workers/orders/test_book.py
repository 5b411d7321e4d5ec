"""The pure matching core: price-time priority, partial fills, market and IOC remainders,
self-trade prevention."""

from __future__ import annotations

from jobcast.orders.enums import OrderStatus
from workers.orders.book import NO_LIQUIDITY, SELF_TRADE, Book, Order


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
    assert touched["s1"].status == OrderStatus.PARTIALLY_FILLED
    assert touched["b1"].status == OrderStatus.FILLED
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
    assert taker.status == OrderStatus.PARTIALLY_FILLED
    assert book.bids.depth(1) == [(100, 2)]


def test_ioc_remainder_is_cancelled_never_rests() -> None:
    book = Book()
    submit(book, Order("s1", "sell", 3, price=100))
    taker = Order("b1", "buy", 5, price=100, time_in_force="IOC")
    submit(book, taker)
    assert (taker.status, taker.filled, taker.remaining) == (OrderStatus.CANCELLED, 3, 0)
    assert book.bids.depth(1) == []


def test_market_order_sweeps_levels_and_cancels_its_rest() -> None:
    book = Book()
    submit(book, Order("s1", "sell", 2, price=100))
    submit(book, Order("s2", "sell", 2, price=110))
    taker = Order("m1", "buy", 10, kind="market", time_in_force="IOC")
    trades = book.submit(taker, {})
    assert [(t.price, t.quantity) for t in trades] == [(100, 2), (110, 2)]
    assert (taker.status, taker.filled) == (OrderStatus.CANCELLED, 4)
    assert book.asks.depth(1) == []
    assert book.bids.depth(1) == []


def test_market_order_on_empty_book_is_rejected_for_no_liquidity() -> None:
    taker = Order("m1", "sell", 1, kind="market", time_in_force="IOC")
    Book().submit(taker, {})
    assert (taker.status, taker.reason) == (OrderStatus.REJECTED, NO_LIQUIDITY)


def test_cancel_removes_only_the_open_remainder() -> None:
    book = Book()
    maker = Order("s1", "sell", 10, price=100)
    submit(book, maker)
    submit(book, Order("b1", "buy", 4, price=100))
    cancelled = book.cancel("s1", {})
    assert cancelled is maker
    assert (maker.status, maker.filled, maker.remaining) == (OrderStatus.CANCELLED, 4, 0)
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
    assert bid.status == OrderStatus.OPEN
    assert (book.bids.best(), book.asks.best()) == (99, 100)


def book_with_asks(*asks: tuple[str, str, int, int]) -> Book:
    """A book resting (id, owner, quantity, price) sell orders, in that time order."""
    book = Book()
    for order_id, owner, quantity, price in asks:
        submit(book, Order(order_id, "sell", quantity, price=price, owner=owner))
    return book


def test_without_self_trade_prevention_an_owner_trades_with_itself() -> None:
    book = book_with_asks(("s1", "alice", 5, 100))
    trades = book.submit(Order("b1", "buy", 5, price=100, owner="alice"), {})
    assert [(t.maker_order_id, t.quantity) for t in trades] == [("s1", 5)]


def test_cancel_newest_keeps_earlier_fills_and_cancels_the_rest_at_its_own_order() -> None:
    book = book_with_asks(("s1", "bob", 3, 100), ("s2", "alice", 5, 100), ("s3", "bob", 5, 100))
    taker = Order("b1", "buy", 10, price=101, owner="alice", self_trade_prevention="cancel_newest")
    touched: dict[str, Order] = {}

    trades = book.submit(taker, touched)

    assert [(t.maker_order_id, t.quantity) for t in trades] == [("s1", 3)]
    assert (taker.status, taker.reason, taker.filled, taker.remaining) == (
        OrderStatus.CANCELLED,
        SELF_TRADE,
        3,
        0,
    )
    assert set(touched) == {"b1", "s1"}  # the own resting order is untouched
    assert (book.resting["s2"].status, book.resting["s2"].remaining) == (OrderStatus.OPEN, 5)
    assert book.asks.depth(5) == [(100, 10)]
    assert book.bids.depth(5) == []  # the GTC remainder does not rest either


def test_cancel_newest_market_order_meeting_its_own_order_first_is_cancelled_not_rejected() -> None:
    book = book_with_asks(("s1", "alice", 5, 100), ("s2", "bob", 5, 101))
    taker = Order(
        "m1",
        "buy",
        5,
        kind="market",
        time_in_force="IOC",
        owner="alice",
        self_trade_prevention="cancel_newest",
    )

    trades = book.submit(taker, {})

    assert trades == []
    assert (taker.status, taker.reason, taker.filled) == (OrderStatus.CANCELLED, SELF_TRADE, 0)
    assert book.asks.depth(5) == [(100, 5), (101, 5)]


def test_cancel_oldest_cancels_own_resting_orders_and_matches_the_next_level() -> None:
    book = book_with_asks(
        ("s1", "bob", 2, 100),
        ("s2", "alice", 4, 100),
        ("s3", "alice", 1, 101),
        ("s4", "bob", 5, 102),
    )
    own = book.resting["s2"]
    book.submit(Order("b0", "buy", 1, price=100, owner="carol"), {})  # s1 now partly filled
    taker = Order("b1", "buy", 4, price=102, owner="alice", self_trade_prevention="cancel_oldest")
    touched: dict[str, Order] = {}

    trades = book.submit(taker, touched)

    assert [(t.maker_order_id, t.price, t.quantity) for t in trades] == [
        ("s1", 100, 1),
        ("s4", 102, 3),
    ]
    assert (own.status, own.reason, own.filled) == (OrderStatus.CANCELLED, SELF_TRADE, 0)
    assert (touched["s3"].status, touched["s3"].reason) == (OrderStatus.CANCELLED, SELF_TRADE)
    assert (taker.status, taker.filled) == (OrderStatus.FILLED, 4)
    assert set(book.resting) == {"s4"}
    assert book.asks.depth(5) == [(102, 2)]


def test_cancel_oldest_cancels_only_the_open_remainder_of_a_partly_filled_own_order() -> None:
    book = book_with_asks(("s1", "alice", 10, 100))
    maker = book.resting["s1"]
    book.submit(Order("b0", "buy", 4, price=100, owner="bob"), {})
    taker = Order("b1", "buy", 3, price=100, owner="alice", self_trade_prevention="cancel_oldest")

    trades = book.submit(taker, {})

    assert trades == []
    assert (maker.status, maker.reason, maker.filled, maker.remaining) == (
        OrderStatus.CANCELLED,
        SELF_TRADE,
        4,
        0,
    )
    assert (taker.status, taker.reason) == (
        OrderStatus.OPEN,
        "",
    )  # nothing else to trade with: it rests
    assert book.bids.depth(5) == [(100, 3)]
    assert book.asks.depth(5) == []


def test_cancel_storm_behind_a_resting_order_does_not_grow_the_level() -> None:
    # Cancelled orders leave their level lazily; one principal placing and cancelling behind an
    # order that stays at the front must not make the worker keep every one it ever cancelled.
    book = Book()
    submit(book, Order("front", "sell", 1, price=100))
    for i in range(10_000):
        submit(book, Order(f"s{i}", "sell", 1, price=100))
        book.cancel(f"s{i}", {})

    assert len(book.asks.levels[100].queue) <= 2
    assert book.asks.depth(1) == [(100, 1)]
    assert book.submit(Order("b1", "buy", 1, price=100), {})[0].maker_order_id == "front"
