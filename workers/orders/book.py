"""The pure matching core: one limit order book per symbol, price-time priority.

No Redis, no Celery: the runner loads a `Book`, feeds it a batch of commands and commits what
changed. Prices are integers in ticks, so price comparisons and sums are exact.

Rules: an incoming order trades with the best opposite level first and, within a level, with
the oldest resting order first; each trade's price is the resting order's price. A limit GTC
remainder rests; an IOC remainder is cancelled; a market order sweeps and never rests.

Self-trade prevention is the taker's choice (a resting order's own setting plays no part):
when the taker meets a resting order of the same owner, "cancel_newest" cancels the taker's
remainder there and "cancel_oldest" cancels the resting order and matching goes on; "none"
lets them trade. The order so cancelled has reason "self_trade": for a taker that wins over
`market_remainder`, `ioc_remainder` and a market order's `no_liquidity` rejection, because the
self-trade, not the book, is what ended it.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field

from jobcast.orders.enums import TERMINAL_STATUSES, OrderStatus, Side
from jobcast.schemas.orders import OrderType, SelfTradePrevention, TimeInForce

#: Reasons a remainder is removed by the engine rather than by its owner.
NO_LIQUIDITY = "no_liquidity"
MARKET_REMAINDER = "market_remainder"
IOC_REMAINDER = "ioc_remainder"
CANCEL_REQUESTED = "cancel_requested"
SELF_TRADE = "self_trade"


@dataclass(slots=True, eq=False)
class Order:
    """An order as the engine sees it. `price` is None for market orders."""

    id: str
    side: Side
    quantity: int
    price: int | None = None
    kind: OrderType = "limit"
    time_in_force: TimeInForce = "GTC"
    owner: str = ""
    arrival: str = ""  # the inbound log position: resting time priority survives a reload
    client_order_id: str = ""
    filled: int = 0
    notional: int = 0  # sum of price * quantity over fills, in ticks
    status: OrderStatus = OrderStatus.OPEN
    reason: str = ""
    self_trade_prevention: SelfTradePrevention = "none"

    @property
    def remaining(self) -> int:
        return 0 if self.status in TERMINAL_STATUSES else self.quantity - self.filled


@dataclass(frozen=True, slots=True)
class Trade:
    seq: int
    price: int
    quantity: int
    buy_order_id: str
    sell_order_id: str
    maker_order_id: str
    taker_side: Side


@dataclass(slots=True)
class Level:
    """Resting orders at one price, oldest first; cancelled ones are skipped lazily."""

    queue: deque[Order] = field(default_factory=deque)
    quantity: int = 0
    cancelled: int = 0  # cancels since the last sweep (some may have left from the front)

    def front(self) -> Order | None:
        while self.queue and self.queue[0].remaining == 0:
            self.queue.popleft()
        return self.queue[0] if self.queue else None

    def note_cancel(self) -> None:
        """Sweep out ended orders once cancels reach half the queue: behind a front order that
        stays, lazy removal alone would keep every order ever cancelled there (a tenant's
        place/cancel storm grew the worker's memory without bound). Amortised O(1) a cancel."""
        self.cancelled += 1
        if self.cancelled * 2 > len(self.queue):
            self.queue = deque(order for order in self.queue if order.remaining)
            self.cancelled = 0


class BookSide:
    """One side's price levels; `prices` is kept sorted so the best is at one end."""

    def __init__(self, side: Side) -> None:
        self.side = side
        self.levels: dict[int, Level] = {}
        self.prices: list[int] = []  # ascending

    def best(self) -> int | None:
        if not self.prices:
            return None
        return self.prices[-1] if self.side == Side.BUY else self.prices[0]

    def add(self, order: Order) -> None:
        assert order.price is not None
        level = self.levels.get(order.price)
        if level is None:
            level = self.levels[order.price] = Level()
            bisect.insort(self.prices, order.price)
        level.queue.append(order)
        level.quantity += order.remaining

    def discard(self, order: Order) -> None:
        """Take a just-cancelled order's remainder off its level."""
        assert order.price is not None
        level = self.levels[order.price]
        self.reduce(order.price, order.quantity - order.filled)
        level.note_cancel()

    def reduce(self, price: int, quantity: int) -> None:
        level = self.levels[price]
        level.quantity -= quantity
        if level.quantity == 0:
            del self.levels[price]
            self.prices.pop(bisect.bisect_left(self.prices, price))

    def depth(self, n: int) -> list[tuple[int, int]]:
        best_first = reversed(self.prices) if self.side == Side.BUY else iter(self.prices)
        out: list[tuple[int, int]] = []
        for price in best_first:
            if len(out) == n:
                break
            out.append((price, self.levels[price].quantity))
        return out


def crosses(incoming: Order, resting_price: int) -> bool:
    if incoming.price is None:
        return True
    return (
        resting_price <= incoming.price
        if incoming.side == Side.BUY
        else resting_price >= incoming.price
    )


class Book:
    """A symbol's book. `submit` and `cancel` mutate it and report trades and touched orders."""

    def __init__(self, trade_seq: int = 0) -> None:
        self.bids = BookSide(Side.BUY)
        self.asks = BookSide(Side.SELL)
        self.resting: dict[str, Order] = {}
        self.trade_seq = trade_seq
        self.last_price: int | None = None
        self.volume = 0

    def opposite(self, side: Side) -> BookSide:
        return self.asks if side == Side.BUY else self.bids

    def own(self, side: Side) -> BookSide:
        return self.bids if side == Side.BUY else self.asks

    def rest(self, order: Order) -> None:
        """Place an order on the book without matching (used when loading saved state)."""
        self.own(order.side).add(order)
        self.resting[order.id] = order

    def submit(self, order: Order, touched: dict[str, Order]) -> list[Trade]:
        """Match `order`, rest or cancel its remainder; every changed order lands in `touched`."""
        touched[order.id] = order
        trades = self._match(order, touched)
        if order.remaining == 0:
            return trades
        if order.kind == "market":
            order.status, order.reason = (
                (OrderStatus.CANCELLED, MARKET_REMAINDER)
                if trades
                else (OrderStatus.REJECTED, NO_LIQUIDITY)
            )
        elif order.time_in_force == "IOC":
            order.status, order.reason = OrderStatus.CANCELLED, IOC_REMAINDER
        else:
            self.rest(order)
        return trades

    def cancel(
        self, order_id: str, touched: dict[str, Order], reason: str = CANCEL_REQUESTED
    ) -> Order | None:
        """Cancel the open remainder of a resting order; None if it is no longer resting."""
        order = self.resting.pop(order_id, None)
        if order is None:
            return None
        order.status, order.reason = OrderStatus.CANCELLED, reason
        self.own(order.side).discard(order)
        touched[order.id] = order
        return order

    def _match(self, taker: Order, touched: dict[str, Order]) -> list[Trade]:
        trades: list[Trade] = []
        book_side = self.opposite(taker.side)
        prevents = taker.self_trade_prevention != "none"  # decided once: the loop is hot
        while taker.remaining:
            price = book_side.best()
            if price is None or not crosses(taker, price):
                break
            maker = book_side.levels[price].front()
            assert maker is not None
            if prevents and maker.owner == taker.owner:
                self._prevent_self_trade(taker, maker, touched)
                continue
            trades.append(self._fill(taker, maker, price, book_side))
            touched[maker.id] = maker
        return trades

    def _prevent_self_trade(self, taker: Order, maker: Order, touched: dict[str, Order]) -> None:
        """End the taker (its remaining goes to 0) or remove the maker, as the taker chose."""
        if taker.self_trade_prevention == "cancel_newest":
            taker.status, taker.reason = OrderStatus.CANCELLED, SELF_TRADE
        else:
            self.cancel(maker.id, touched, SELF_TRADE)

    def _fill(self, taker: Order, maker: Order, price: int, book_side: BookSide) -> Trade:
        quantity = min(taker.remaining, maker.remaining)
        for order in (taker, maker):
            order.filled += quantity
            order.notional += quantity * price
            order.status = (
                OrderStatus.FILLED
                if order.filled == order.quantity
                else OrderStatus.PARTIALLY_FILLED
            )
        book_side.reduce(price, quantity)
        if maker.status == OrderStatus.FILLED:
            del self.resting[maker.id]
        self.trade_seq += 1
        self.last_price = price
        self.volume += quantity
        buy, sell = (taker, maker) if taker.side == Side.BUY else (maker, taker)
        return Trade(self.trade_seq, price, quantity, buy.id, sell.id, maker.id, taker.side)
