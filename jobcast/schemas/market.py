"""Response models of the market-data routes (`/market/{symbol}`...)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Quote(BaseModel):
    """Top of the book: also the data of `market.quote` events."""

    symbol: str
    best_bid: str | None
    bid_size: int
    best_ask: str | None
    ask_size: int
    last_price: str | None
    volume: int = Field(description="Quantity traded since the symbol's book began.")


class Level(BaseModel):
    price: str
    quantity: int = Field(description="Total resting quantity at this price.")


class BookDepth(BaseModel):
    """Aggregated levels: also the data of `market.book` events (their top 20 per side)."""

    symbol: str
    bids: list[Level] = Field(description="Best (highest) first.")
    asks: list[Level] = Field(description="Best (lowest) first.")


class Trade(BaseModel):
    """One trade: also the data of `market.trade` events. It names no order (`Fill` is one of
    yours, with its order). Older servers filled in `buy_order_id` and `sell_order_id`."""

    symbol: str
    seq: int = Field(description="1, 2, 3... per symbol: the trade's id within its symbol.")
    price: str
    quantity: int
    taker_side: Literal["buy", "sell"]
    ts: float = Field(description="Unix time, seconds.")
    buy_order_id: str = Field(
        "",
        deprecated=True,
        description="Always empty: the tape names no order (clients that read the ids require "
        "the field). Your own trades: `GET /market/{symbol}/fills`.",
    )
    sell_order_id: str = Field("", deprecated=True, description="Always empty, as buy_order_id.")


class TradeList(BaseModel):
    symbol: str
    trades: list[Trade] = Field(description="Newest first.")


class Fill(Trade):
    """One trade of an order of yours: the trade as the tape shows it, with your order's id and
    side (one fill per side when both orders are yours)."""

    order_id: str
    side: Literal["buy", "sell"]


class FillList(BaseModel):
    symbol: str
    fills: list[Fill] = Field(
        description="Newest first: yours among the symbol's `limit` most recent trades."
    )


class SymbolInfo(BaseModel):
    """One tradable symbol and the rules an order for it must meet."""

    symbol: str
    tick_size: str = Field(description="Prices are multiples of this (a decimal string).")
    lot_size: int = Field(description="Quantities are multiples of this.")
    min_quantity: int
    max_quantity: int
    max_notional: str = Field(description="Most price * quantity of one limit order.")


class SymbolList(BaseModel):
    symbols: list[SymbolInfo]
