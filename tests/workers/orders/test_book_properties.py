"""Random order and cancel sequences: the engine agrees with the naive reference model."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.workers.orders.reference import ReferenceBook, RefOrder
from workers.orders.book import Book, Order, Trade


@dataclass(frozen=True)
class Place:
    side: str
    kind: str
    tif: str
    price: int
    quantity: int
    owner: str
    stp: str


@dataclass(frozen=True)
class Cancel:
    index: int  # which earlier order (modulo the count so far)


places = st.builds(
    Place,
    side=st.sampled_from(["buy", "sell"]),
    kind=st.sampled_from(["limit", "limit", "limit", "market"]),
    tif=st.sampled_from(["GTC", "GTC", "IOC"]),
    price=st.integers(95, 105),
    quantity=st.integers(1, 20),
    # Few owners, so an order often meets its owner's own resting orders.
    owner=st.sampled_from(["alice", "bob", "carol"]),
    stp=st.sampled_from(["none", "none", "cancel_newest", "cancel_oldest"]),
)
steps = st.lists(st.one_of(places, places, st.builds(Cancel, st.integers(0, 1000))), max_size=120)


def state(order: Order) -> tuple[str, int, str]:
    return order.status, order.filled, order.reason


def submit_and_check_touched(book: Book, order: Order, before: list[Order]) -> list[Trade]:
    """Submit, and check every order it changed is reported (the step's events come from it)."""
    was = {o.id: state(o) for o in before}
    touched: dict[str, Order] = {}
    trades = book.submit(order, touched)
    changed = {o.id for o in before if state(o) != was[o.id]} | {order.id}
    assert changed <= set(touched), changed - set(touched)
    return trades


@settings(max_examples=300, deadline=None)
@given(steps)
def test_engine_matches_reference_model_fill_for_fill(sequence: list[Place | Cancel]) -> None:
    book, ref = Book(), ReferenceBook()
    engine_orders: list[Order] = []
    engine_trades: list[Trade] = []
    for n, step in enumerate(sequence):
        if isinstance(step, Cancel):
            if engine_orders:
                target = engine_orders[step.index % len(engine_orders)].id
                book.cancel(target, {})
                ref.cancel(target)
            continue
        price = None if step.kind == "market" else step.price
        tif = "IOC" if step.kind == "market" else step.tif
        order = Order(
            f"o{n}",
            step.side,
            step.quantity,
            price,
            step.kind,
            tif,
            step.owner,  # type: ignore[arg-type]
            self_trade_prevention=step.stp,  # type: ignore[arg-type]
        )
        engine_trades += submit_and_check_touched(book, order, engine_orders)
        engine_orders.append(order)
        ref.submit(
            RefOrder(
                order.id, step.side, step.quantity, price, step.kind, tif, step.owner, step.stp
            )
        )

    assert [(t.price, t.quantity, t.buy_order_id, t.sell_order_id) for t in engine_trades] == [
        (t.price, t.quantity, t.buy, t.sell) for t in ref.trades
    ]
    assert [t.seq for t in engine_trades] == list(range(1, len(engine_trades) + 1))
    for order in engine_orders:
        expected = ref.orders[order.id]
        assert state(order) == (expected.status, expected.filled, expected.reason), order.id
    assert book.bids.depth(1000) == ref.levels("buy")
    assert book.asks.depth(1000) == ref.levels("sell")
    assert set(book.resting) == {o.id for o in ref.resting}
