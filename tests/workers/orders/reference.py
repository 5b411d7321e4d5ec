"""A deliberately naive order book, written apart from the engine, to check it against.

Every step scans and sorts plain lists; nothing is clever, so it is easy to believe.
Self-trade prevention, as specified: the incoming order's `stp` decides what happens when the
best counterparty has the same owner: "cancel_newest" stops the incoming order there (it is
cancelled, reason self_trade, even a market order that traded nothing), "cancel_oldest"
cancels that resting order (reason self_trade) and looks again, "none" trades.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RefOrder:
    id: str
    side: str
    quantity: int
    price: int | None
    kind: str
    tif: str
    owner: str = ""
    stp: str = "none"
    arrival: int = 0
    filled: int = 0
    status: str = "open"
    reason: str = ""


@dataclass
class RefTrade:
    price: int
    quantity: int
    buy: str
    sell: str


@dataclass
class ReferenceBook:
    orders: dict[str, RefOrder] = field(default_factory=dict)
    resting: list[RefOrder] = field(default_factory=list)
    trades: list[RefTrade] = field(default_factory=list)
    clock: int = 0

    def best_counterparty(self, order: RefOrder) -> RefOrder | None:
        others = [o for o in self.resting if o.side != order.side]
        if order.side == "buy":
            others.sort(key=lambda o: (o.price, o.arrival))
        else:
            others.sort(key=lambda o: (-(o.price or 0), o.arrival))
        if not others:
            return None
        best = others[0]
        if order.price is not None:
            if order.side == "buy" and best.price > order.price:  # type: ignore[operator]
                return None
            if order.side == "sell" and best.price < order.price:  # type: ignore[operator]
                return None
        return best

    def submit(self, order: RefOrder) -> None:
        self.clock += 1
        order.arrival = self.clock
        self.orders[order.id] = order
        traded = False
        stopped_by_self_trade = False
        while order.filled < order.quantity:
            maker = self.best_counterparty(order)
            if maker is None:
                break
            if maker.owner == order.owner and order.stp == "cancel_newest":
                stopped_by_self_trade = True
                break
            if maker.owner == order.owner and order.stp == "cancel_oldest":
                self.resting.remove(maker)
                maker.status, maker.reason = "cancelled", "self_trade"
                continue
            qty = min(order.quantity - order.filled, maker.quantity - maker.filled)
            order.filled += qty
            maker.filled += qty
            traded = True
            buy, sell = (order, maker) if order.side == "buy" else (maker, order)
            self.trades.append(RefTrade(maker.price, qty, buy.id, sell.id))  # type: ignore[arg-type]
            maker.status = "filled" if maker.filled == maker.quantity else "partially_filled"
            if maker.status == "filled":
                self.resting.remove(maker)
        if order.filled == order.quantity:
            order.status = "filled"
        elif stopped_by_self_trade:
            order.status, order.reason = "cancelled", "self_trade"
        elif order.kind == "market":
            if traded:
                order.status, order.reason = "cancelled", "market_remainder"
            else:
                order.status, order.reason = "rejected", "no_liquidity"
        elif order.tif == "IOC":
            order.status, order.reason = "cancelled", "ioc_remainder"
        else:
            order.status = "partially_filled" if traded else "open"
            self.resting.append(order)

    def cancel(self, order_id: str) -> None:
        order = self.orders.get(order_id)
        if order is not None and order in self.resting:
            self.resting.remove(order)
            order.status, order.reason = "cancelled", "cancel_requested"

    def levels(self, side: str) -> list[tuple[int, int]]:
        totals: dict[int, int] = {}
        for o in self.resting:
            if o.side == side:
                totals[o.price] = totals.get(o.price, 0) + o.quantity - o.filled  # type: ignore[index]
        return sorted(totals.items(), reverse=side == "buy")


def replay(orders: list[dict[str, str]]) -> ReferenceBook:
    """The reference model fed one symbol's commands (its order records' new and cancel
    commands) in the order of the symbol's inbound log, which is acceptance order."""
    commands: list[tuple[tuple[int, int], str, dict[str, str]]] = []
    for o in orders:
        commands.append((stream_id(o["sid"]), "new", o))
        if o.get("cancel_sid"):
            commands.append((stream_id(o["cancel_sid"]), "cancel", o))
    ref = ReferenceBook()
    for _, kind, o in sorted(commands, key=lambda c: c[0]):
        if kind == "cancel":
            ref.cancel(o["id"])
            continue
        price = int(o["price"]) if o.get("price") else None
        ref.submit(
            RefOrder(
                o["id"],
                o["side"],
                int(o["quantity"]),
                price,
                o["type"],
                o["time_in_force"],
                o["owner"],
                o.get("self_trade_prevention", "none"),
            )
        )
    return ref


def stream_id(sid: str) -> tuple[int, int]:
    ms, _, n = sid.partition("-")
    return int(ms), int(n)
