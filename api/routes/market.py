"""The symbols and their rules; per symbol: top of book, depth, recent trades (live:
`market.{symbol}` events)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import CurrentPrincipal
from api.deps import RedisDep, SettingsDep
from api.errors import ApiError
from api.openapi_errors import AUTHENTICATED, errors
from jobcast import rediskeys
from jobcast.orders.market import fills_of, levels, public_trade, quote_view
from jobcast.orders.symbols import SymbolRules, no_such_symbol, symbol_table
from jobcast.schemas.market import (
    BookDepth,
    Fill,
    FillList,
    Level,
    Quote,
    SymbolInfo,
    SymbolList,
    Trade,
    TradeList,
)
from jobcast.settings import Settings

router = APIRouter(prefix="/market", tags=["market"])


def rules_of(settings: Settings, symbol: str) -> SymbolRules:
    traded = symbol_table(settings.order_symbols)
    rules = traded.get(symbol)
    if rules is None:
        raise ApiError(404, "not_found", no_such_symbol(symbol, traded))
    return rules


async def _market(redis: RedisDep, symbol: str) -> dict[str, str]:
    key = rediskeys.market_key(symbol)
    market: dict[str, str] = await redis.hgetall(key)  # type: ignore[assignment]
    return market


@router.get("", summary="List the symbols and their rules", responses=errors(*AUTHENTICATED))
async def list_symbols(principal: CurrentPrincipal, settings: SettingsDep) -> SymbolList:
    """The tradable symbols and their rules (tick size, lot size, quantity and notional limits)."""
    table = symbol_table(settings.order_symbols)
    return SymbolList(symbols=[symbol_info(name, rules) for name, rules in table.items()])


def symbol_info(symbol: str, rules: SymbolRules) -> SymbolInfo:
    return SymbolInfo(
        symbol=symbol,
        tick_size=str(rules.tick_size),
        lot_size=rules.lot_size,
        min_quantity=rules.min_quantity,
        max_quantity=rules.max_quantity,
        max_notional=str(rules.max_notional),
    )


@router.get(
    "/{symbol}", summary="Get a symbol's quote", responses=errors(*AUTHENTICATED, "not_found")
)
async def get_quote(
    symbol: str, principal: CurrentPrincipal, redis: RedisDep, settings: SettingsDep
) -> Quote:
    """Best bid and ask with their sizes, last trade price and traded volume."""
    rules = rules_of(settings, symbol)
    return Quote(**quote_view(symbol, rules, await _market(redis, symbol)))


@router.get(
    "/{symbol}/book",
    summary="Get a symbol's order book",
    responses=errors(*AUTHENTICATED, "not_found", "validation_error"),
)
async def get_book(
    symbol: str,
    principal: CurrentPrincipal,
    redis: RedisDep,
    settings: SettingsDep,
    depth: Annotated[int, Query(ge=1, le=1000)] = 10,
) -> BookDepth:
    """Aggregated price levels, best first, up to `depth` per side (and to the snapshot's
    `JOBCAST_ORDER_DEPTH_LEVELS`)."""
    rules = rules_of(settings, symbol)
    market = await _market(redis, symbol)
    bids = [Level(**lv) for lv in levels(rules, market.get("bids"), depth)]
    asks = [Level(**lv) for lv in levels(rules, market.get("asks"), depth)]
    return BookDepth(symbol=symbol, bids=bids, asks=asks)


@router.get(
    "/{symbol}/trades",
    summary="Get a symbol's recent trades",
    responses=errors(*AUTHENTICATED, "not_found", "validation_error"),
)
async def get_trades(
    symbol: str,
    principal: CurrentPrincipal,
    redis: RedisDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> TradeList:
    """Recent trades, newest first. They name no order: your own are `/fills`."""
    rules_of(settings, symbol)
    stored = await _recent_trades(redis, symbol, limit)
    return TradeList(symbol=symbol, trades=[Trade(**public_trade(t)) for t in stored])


@router.get(
    "/{symbol}/fills",
    summary="Get your fills among a symbol's recent trades",
    responses=errors(*AUTHENTICATED, "not_found", "validation_error"),
)
async def get_fills(
    symbol: str,
    principal: CurrentPrincipal,
    redis: RedisDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> FillList:
    """Your fills among the symbol's `limit` most recent trades (as `/trades` lists them, kept
    up to `JOBCAST_ORDER_TRADE_HISTORY`), newest first: each trade with your order's id and
    side."""
    rules_of(settings, symbol)
    stored = await _recent_trades(redis, symbol, limit)
    return FillList(
        symbol=symbol, fills=[Fill(**f) for t in stored for f in fills_of(t, principal.id)]
    )


async def _recent_trades(redis: RedisDep, symbol: str, limit: int) -> list[dict[str, Any]]:
    key = rediskeys.trades_key(symbol)
    raw: list[str] = await redis.lrange(key, 0, limit - 1)  # type: ignore[assignment]
    return [json.loads(t) for t in raw]
