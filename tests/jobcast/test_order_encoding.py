"""The order's stored forms read back as written, and its view is the same from either side."""

from __future__ import annotations

import dataclasses
from typing import get_args

from jobcast.orders import records
from jobcast.orders.encoding import NewOrder, decode_inbound, encode_inbound
from jobcast.orders.enums import TERMINAL_STATUSES, OrderStatus, Side
from jobcast.orders.symbols import DEFAULT_SYMBOLS
from jobcast.schemas import orders as schemas

RULES = DEFAULT_SYMBOLS["ACME"]
ORDER = NewOrder(
    id="o_" + "a" * 20,
    owner="p1",
    symbol="ACME",
    side=Side.SELL,
    type="limit",
    time_in_force="IOC",
    quantity=7,
    price_ticks=1234,
    client_order_id="mine-1",
    self_trade_prevention="cancel_oldest",
)


def test_an_inbound_entry_decodes_to_the_order_encoded() -> None:
    plain = NewOrder("o_" + "b" * 20, "p2", "ACME", Side.BUY, "market", "IOC", 3, None, None)
    for order in (ORDER, plain):
        assert decode_inbound(order.symbol, encode_inbound(order)) == order


def test_a_default_order_keeps_the_eight_field_entry_older_workers_read() -> None:
    plain = NewOrder("o_" + "c" * 20, "p2", "ACME", Side.BUY, "limit", "GTC", 3, 100, None)
    assert encode_inbound(plain) == '["o_cccccccccccccccccccc","p2","buy","limit",100,3,"GTC",""]'
    assert decode_inbound("ACME", encode_inbound(plain)).self_trade_prevention == "none"


def test_decoded_values_are_the_enums() -> None:
    order = decode_inbound("ACME", encode_inbound(ORDER))
    state = records.state_from_record(ORDER.record(1.5))
    assert type(order.side) is Side
    assert (type(state.side), type(state.status)) == (Side, OrderStatus)


def test_the_api_schema_lists_the_same_statuses_and_sides_as_the_enums() -> None:
    assert get_args(schemas.OrderStatus) == tuple(OrderStatus)
    assert get_args(schemas.Side) == tuple(Side)
    assert {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED} == TERMINAL_STATUSES


def test_view_of_a_new_record_shows_the_order_as_accepted() -> None:
    view = records.record_view(ORDER.record(1.5), RULES)
    assert view == {
        "id": ORDER.id,
        "client_order_id": "mine-1",
        "symbol": "ACME",
        "side": "sell",
        "type": "limit",
        "time_in_force": "IOC",
        "self_trade_prevention": "cancel_oldest",
        "price": RULES.price_text(1234),
        "quantity": 7,
        "filled_quantity": 0,
        "remaining_quantity": 7,
        "average_price": None,
        "status": "open",
        "reason": None,
        "created_at": 1.5,
        "updated_at": 1.5,
    }


def test_a_view_built_from_typed_values_leaves_out_an_unknown_creation_time() -> None:
    state = records.state_from_record(
        {**ORDER.record(1.5), "status": "filled", "filled_quantity": "7", "notional": str(7 * 1234)}
    )
    from_record = records.order_view(state, RULES)
    from_step = records.order_view(dataclasses.replace(state, created_at=None), RULES)
    assert from_record["remaining_quantity"] == 0
    assert from_record["average_price"] is not None
    assert from_step == {k: v for k, v in from_record.items() if k != "created_at"}


def test_the_accepted_view_is_the_view_of_the_record_written() -> None:
    plain = NewOrder("o_" + "d" * 20, "p2", "ACME", Side.BUY, "market", "IOC", 3, None, None)
    for order in (ORDER, plain):
        now = 1764633600.123456
        from_record = records.record_view(order.record(now), RULES)
        assert records.order_view(records.accepted_state(order, now), RULES) == from_record
