"""Request and response bodies of the orders and market routes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SelfTradePrevention = Literal["none", "cancel_newest", "cancel_oldest"]
ClientOrderId = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")


class OrderCreate(BaseModel):
    """A new order. `price` (a decimal, on the symbol's tick) is for limit orders only.

    `self_trade_prevention`: what happens when it would trade with a resting order of yours:
    trade anyway (`none`), cancel this order's remainder (`cancel_newest`) or cancel the resting
    one and go on matching (`cancel_oldest`); the cancelled order's reason is `self_trade`.
    """

    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(min_length=1, max_length=32)
    side: Literal["buy", "sell"]
    type: Literal["limit", "market"] = "limit"
    quantity: int
    price: Decimal | None = None
    time_in_force: Literal["GTC", "IOC"] | None = None
    client_order_id: str | None = ClientOrderId
    self_trade_prevention: SelfTradePrevention = "none"


class OrderBatchCreate(BaseModel):
    """Orders validated one by one: a bad one is rejected without failing the others."""

    orders: list[dict[str, Any]] = Field(min_length=1)


class Order(BaseModel):
    id: str
    client_order_id: str | None
    symbol: str
    side: str
    type: str
    time_in_force: str
    self_trade_prevention: SelfTradePrevention
    price: str | None
    quantity: int
    filled_quantity: int
    remaining_quantity: int
    average_price: str | None
    status: str
    reason: str | None
    created_at: float
    updated_at: float


class OrderRejection(BaseModel):
    code: str
    message: str
    details: Any = None


class BatchResult(BaseModel):
    status: Literal["accepted", "rejected"]
    order: Order | None = None
    error: OrderRejection | None = None


class OrderBatchResult(BaseModel):
    results: list[BatchResult]


class OrderPage(BaseModel):
    items: list[Order]
    next_cursor: str | None


class Quote(BaseModel):
    symbol: str
    best_bid: str | None
    bid_size: int
    best_ask: str | None
    ask_size: int
    last_price: str | None
    volume: int


class Level(BaseModel):
    price: str
    quantity: int


class BookDepth(BaseModel):
    symbol: str
    bids: list[Level]
    asks: list[Level]


class Trade(BaseModel):
    symbol: str
    seq: int
    price: str
    quantity: int
    buy_order_id: str
    sell_order_id: str
    taker_side: str
    ts: float


class TradeList(BaseModel):
    symbol: str
    trades: list[Trade]
