"""Tradable symbols and the rules an order must meet to be accepted.

Every rule has a stable code; a broken rule is answered with 422 and that code, so a client
can tell "off the tick size" from "too large" without parsing messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, Field

from jobcast.schemas.orders import TimeInForce


class SymbolRules(BaseModel):
    """Trading rules of one symbol (tick size, lot limits, max notional per order)."""

    tick_size: Decimal = Field(gt=0)
    lot_size: int = Field(default=1, ge=1)
    min_quantity: int = Field(default=1, ge=1)
    max_quantity: int = Field(default=1_000_000, ge=1)
    max_notional: Decimal = Field(default=Decimal("100000000"), gt=0)

    def to_ticks(self, price: Decimal) -> int:
        return int(price / self.tick_size)

    def price_text(self, ticks: int) -> str:
        """A price in ticks as the decimal string the API shows."""
        return str((self.tick_size * ticks).quantize(self.tick_size))


DEFAULT_SYMBOLS: dict[str, SymbolRules] = {
    "BTC-USD": SymbolRules(tick_size=Decimal("0.5"), max_quantity=1000),
    "ETH-USD": SymbolRules(tick_size=Decimal("0.05"), max_quantity=10_000),
    "SOL-USD": SymbolRules(tick_size=Decimal("0.01"), max_quantity=100_000),
    "ACME": SymbolRules(tick_size=Decimal("0.01"), lot_size=10, min_quantity=10),
}


class OrderRuleError(ValueError):
    """An order breaks a rule; `rule` is the code the API answers with."""

    def __init__(self, rule: str, message: str, field: str) -> None:
        super().__init__(message)
        self.rule, self.message, self.field = rule, message, field


#: A price as a client writes it: digits, optionally a point and more digits, and a leading
#: minus at most (answered as not positive). No exponent and bounded length: "1e28" or
#: "1e-999999999" are refused here instead of overflowing (or rounding to 0) in the tick check,
#: and every later step (tick, notional) stays exact within Decimal's 28 digits.
PRICE_PATTERN = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,12})?")
PRICE_RULE = (
    'Price must be a plain decimal such as "101.25": at most 15 digits before the point and 12 '
    "after it, no exponent."
)


def parse_price(raw: object) -> Decimal:
    text = _price_text(raw)
    if text is None or not PRICE_PATTERN.fullmatch(text):
        raise OrderRuleError("price_invalid", PRICE_RULE, "price")
    return Decimal(text)


def _price_text(raw: object) -> str | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        return repr(raw)  # 1e28 reads "1e+28", refused by the pattern like the string
    if isinstance(raw, str | Decimal):
        return str(raw)
    return None


def check_quantity(rules: SymbolRules, quantity: int) -> None:
    if quantity <= 0:
        raise OrderRuleError("quantity_not_positive", "Quantity must be > 0.", "quantity")
    if quantity < rules.min_quantity:
        raise OrderRuleError(
            "quantity_below_minimum", f"Quantity must be >= {rules.min_quantity}.", "quantity"
        )
    if quantity > rules.max_quantity:
        raise OrderRuleError(
            "quantity_above_maximum", f"Quantity must be <= {rules.max_quantity}.", "quantity"
        )
    if quantity % rules.lot_size:
        raise OrderRuleError(
            "quantity_not_lot_multiple",
            f"Quantity must be a multiple of the lot size {rules.lot_size}.",
            "quantity",
        )


def check_limit_price(rules: SymbolRules, price: Decimal, quantity: int) -> int:
    """The price in ticks, after checking it is positive, on the tick and within max notional."""
    if price <= 0:
        raise OrderRuleError("price_not_positive", "Price must be > 0.", "price")
    try:
        off_tick = bool(price % rules.tick_size)
    except InvalidOperation:  # only with a tick far below any price pattern's digits
        raise OrderRuleError("price_invalid", PRICE_RULE, "price") from None
    if off_tick:
        raise OrderRuleError(
            "price_off_tick",
            f"Price must be a multiple of the tick size {rules.tick_size}.",
            "price",
        )
    if price * quantity > rules.max_notional:
        raise OrderRuleError(
            "max_notional_exceeded", f"Price * quantity must be <= {rules.max_notional}.", "price"
        )
    return rules.to_ticks(price)


def no_such_symbol(symbol: str, traded: Iterable[str]) -> str:
    """What REST (`GET /market/{symbol}`) and the WebSocket (`market.{symbol}`) answer alike."""
    return f"No symbol {symbol!r}{_case_hint(symbol, traded)}: GET /market lists them."


def not_a_traded_symbol(symbol: str, traded: Iterable[str]) -> str:
    """What an order of a symbol that is not traded is refused with."""
    return f"{symbol!r} is not a traded symbol{_case_hint(symbol, traded)}."


def _case_hint(symbol: str, traded: Iterable[str]) -> str:
    # Symbols are matched exactly (a configured one may be lower case): `acme` for `ACME` is
    # the likeliest slip, so the answer names the one meant.
    meant = [name for name in traded if name.casefold() == symbol.casefold()]
    return f" (symbols are case-sensitive: {meant[0]!r})" if meant else ""


def symbol_table(configured: dict[str, SymbolRules] | None) -> dict[str, SymbolRules]:
    """The symbols in effect: `JOBCAST_ORDER_SYMBOLS`, or the built-in set when it is unset."""
    return configured if configured else DEFAULT_SYMBOLS


def check_order(
    rules: SymbolRules,
    kind: str,
    time_in_force: TimeInForce | None,
    quantity: int,
    price: object,
) -> tuple[int | None, TimeInForce]:
    """(price in ticks or None, time in force) for an order that meets every rule."""
    check_quantity(rules, quantity)
    if kind == "market":
        if price is not None:
            raise OrderRuleError(
                "market_order_has_price", "A market order takes no price.", "price"
            )
        if time_in_force == "GTC":
            raise OrderRuleError(
                "market_order_not_ioc",
                "A market order never rests: use IOC or omit time_in_force.",
                "time_in_force",
            )
        return None, "IOC"
    if price is None:
        raise OrderRuleError("price_required", "A limit order needs a price.", "price")
    return check_limit_price(rules, parse_price(price), quantity), time_in_force or "GTC"
