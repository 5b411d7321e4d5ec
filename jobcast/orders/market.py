"""Market data views rendered from a symbol's market hash (shared by api and workers)."""

from __future__ import annotations

import json
from typing import Any

from jobcast.orders.symbols import SymbolRules


def levels(rules: SymbolRules, raw: str | None, depth: int) -> list[dict[str, Any]]:
    """Price levels from the snapshot (`[[ticks, qty], ...]`, best first), as the API shows them."""
    pairs: list[list[int]] = json.loads(raw or "[]")
    return [{"price": rules.price_text(p), "quantity": q} for p, q in pairs[:depth]]


def quote_view(symbol: str, rules: SymbolRules, market: dict[str, str]) -> dict[str, Any]:
    """Best bid/ask with sizes, last price and volume.

    The data of `market.quote` events and the answer of `GET /market/{symbol}`.
    """
    bids, asks = levels(rules, market.get("bids"), 1), levels(rules, market.get("asks"), 1)
    last = market.get("last_price", "")
    return {
        "symbol": symbol,
        "best_bid": bids[0]["price"] if bids else None,
        "bid_size": bids[0]["quantity"] if bids else 0,
        "best_ask": asks[0]["price"] if asks else None,
        "ask_size": asks[0]["quantity"] if asks else 0,
        "last_price": rules.price_text(int(last)) if last else None,
        "volume": int(market.get("volume", 0)),
    }


#: Fields of a stored trade (`rediskeys.trades_key`) that only its two parties' own views show.
#: The public tape (`GET /market/{symbol}/trades`, `market.trade` events) names no order: another
#: tenant's order id would link every fill of one resting order, and so estimate its hidden size.
PARTY_FIELDS = ("buy_order_id", "sell_order_id", "buy_owner", "sell_owner")

#: The order ids' fields as the tape still sends them: empty. Clients released while the tape
#: named orders require both (a string each); without them their `trades()` refused the answer.
EMPTY_ORDER_IDS = {"buy_order_id": "", "sell_order_id": ""}


def public_trade(trade: dict[str, Any]) -> dict[str, Any]:
    """A stored trade as the tape shows it to everyone: its order ids empty."""
    public = {name: value for name, value in trade.items() if name not in PARTY_FIELDS}
    return public | EMPTY_ORDER_IDS


def names_an_order(trade: dict[str, Any]) -> bool:
    """Whether a trade as shown says whose orders traded (the tape never does)."""
    return any(trade.get(name) for name in PARTY_FIELDS)


def fills_of(trade: dict[str, Any], owner: str) -> list[dict[str, Any]]:
    """`owner`'s fills in one stored trade: the trade with their order's id and side, one per
    side that is theirs (two when they traded with themselves). A trade stored before owners
    were kept has none."""
    public = public_trade(trade)
    return [
        {**public, "order_id": trade[f"{side}_order_id"], "side": side}
        for side in ("buy", "sell")
        if trade.get(f"{side}_owner") == owner
    ]


#: Levels per side a `market.book` event carries (a deeper ladder reads `GET .../book`).
BOOK_EVENT_LEVELS = 20


def book_view(
    symbol: str, rules: SymbolRules, market: dict[str, str], depth: int
) -> dict[str, Any]:
    """The book's top `depth` levels per side, best first: the data of `market.book` events, in
    the shape of `GET /market/{symbol}/book`."""
    return {
        "symbol": symbol,
        "bids": levels(rules, market.get("bids"), depth),
        "asks": levels(rules, market.get("asks"), depth),
    }
