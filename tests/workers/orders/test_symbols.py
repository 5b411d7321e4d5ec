"""Symbol rules: configured from the environment, checked without Redis."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jobcast.orders.symbols import (
    DEFAULT_SYMBOLS,
    OrderRuleError,
    SymbolRules,
    check_order,
    symbol_table,
)
from jobcast.settings import Settings


def test_symbols_come_from_json_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBCAST_ORDER_SYMBOLS", '{"XYZ": {"tick_size": "0.25", "lot_size": 5}}')
    table = symbol_table(Settings(_env_file=None).order_symbols)  # type: ignore[call-arg]
    assert table == {"XYZ": SymbolRules(tick_size=Decimal("0.25"), lot_size=5)}


def test_unset_symbols_mean_the_built_in_set() -> None:
    assert symbol_table(None) is DEFAULT_SYMBOLS


def test_limit_price_becomes_ticks_and_time_in_force_defaults_to_gtc() -> None:
    rules = SymbolRules(tick_size=Decimal("0.25"))
    assert check_order(rules, "limit", None, 3, "10.75") == (43, "GTC")
    assert rules.price_text(43) == "10.75"


def test_market_order_defaults_to_ioc() -> None:
    assert check_order(DEFAULT_SYMBOLS["SOL-USD"], "market", None, 3, None) == (None, "IOC")


@pytest.mark.parametrize(
    ("price", "rule"),
    [("abc", "price_invalid"), ("NaN", "price_invalid"), ("0.001", "price_off_tick")],
)
def test_bad_prices_name_their_rule(price: str, rule: str) -> None:
    with pytest.raises(OrderRuleError) as broken:
        check_order(DEFAULT_SYMBOLS["SOL-USD"], "limit", None, 1, price)
    assert broken.value.rule == rule
