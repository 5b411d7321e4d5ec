"""An order's average fill price as the API writes it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jobcast.orders.records import average_price
from jobcast.orders.symbols import SymbolRules

CENT = SymbolRules(tick_size=Decimal("0.01"))


@pytest.mark.parametrize(
    ("rules", "filled", "notional", "shown"),
    [
        (CENT, 2, 20300, "101.50"),  # 101.00 and 102.00: on the tick, written as a price is
        (CENT, 4, 40502, "101.255"),  # between ticks: the digits it needs, no trailing zero
        (CENT, 3, 30400, "101.3333"),  # to a hundredth of the tick
        (CENT, 1, 10000, "100.00"),
        (SymbolRules(tick_size=Decimal("0.5")), 2, 405, "101.25"),
        (SymbolRules(tick_size=Decimal("0.5")), 2, 404, "101.0"),
        (SymbolRules(tick_size=Decimal("5")), 2, 41, "102.5"),
        (SymbolRules(tick_size=Decimal("5")), 1, 20, "100"),
    ],
)
def test_an_average_is_written_to_the_tick_unless_it_falls_between(
    rules: SymbolRules, filled: int, notional: int, shown: str
) -> None:
    assert average_price(rules, filled, notional) == shown


def test_no_average_before_a_fill_or_without_the_symbols_rules() -> None:
    assert average_price(CENT, 0, 0) is None
    assert average_price(None, 2, 20300) is None
