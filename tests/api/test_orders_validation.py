"""Every order rule answers 422 naming it; a batch rejects bad orders one by one."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from jobcast.settings import Settings
from tests.conftest import SharedStack, StartApi, module_stack
from tests.workers.orders.support import ORDER_ENV, new_trader

GOOD: dict[str, Any] = {"symbol": "ACME", "side": "buy", "quantity": 10, "price": "1.00"}

#: (what changes in a good order, the rule it breaks). ACME: tick 0.01, lot 10, min 10,
#: max 1,000,000, max notional 100,000,000.
BROKEN_RULES: list[tuple[dict[str, Any], str]] = [
    ({"symbol": "NOPE"}, "unknown_symbol"),
    ({"quantity": 0}, "quantity_not_positive"),
    ({"quantity": -10}, "quantity_not_positive"),
    ({"quantity": 5}, "quantity_below_minimum"),
    ({"quantity": 1_000_010}, "quantity_above_maximum"),
    ({"quantity": 15}, "quantity_not_lot_multiple"),
    ({"price": None}, "price_required"),
    ({"price": "0"}, "price_not_positive"),
    ({"price": "-1.00"}, "price_not_positive"),
    ({"price": "1.005"}, "price_off_tick"),
    ({"price": "200.00", "quantity": 999_990}, "max_notional_exceeded"),
    ({"type": "market", "price": "1.00"}, "market_order_has_price"),
    ({"type": "market", "price": None, "time_in_force": "GTC"}, "market_order_not_ioc"),
    ({"side": "hold"}, "validation_error"),
    ({"quantity": 1.5}, "validation_error"),
    ({"time_in_force": "FOK"}, "validation_error"),
    ({"client_order_id": "has spaces"}, "validation_error"),
    ({"self_trade_prevention": "cancel_both"}, "validation_error"),
]

#: One api for the module (each test trades as its own principal); the batch-size test starts
#: its own with a smaller batch limit.
stack = module_stack(api_env=ORDER_ENV)


@pytest.fixture
def settings(stack: SharedStack) -> Settings:
    return stack.settings


def test_each_broken_rule_is_a_422_naming_it(
    stack: SharedStack, redis_client: redis.Redis, settings: Settings
) -> None:
    url = stack.url
    trader = new_trader(redis_client, settings, url, "v")

    answers = {}
    for change, rule in BROKEN_RULES:
        order = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
        response = trader.place(**order)
        answers[rule, str(change)] = (response.status_code, response.json()["error"]["code"])

    assert answers == {(rule, str(change)): (422, rule) for change, rule in BROKEN_RULES}
    assert trader.http.get("/orders").json()["items"] == []


def test_unknown_self_trade_prevention_is_a_422_naming_the_field_alone_or_in_a_batch(
    stack: SharedStack, redis_client: redis.Redis, settings: Settings
) -> None:
    url = stack.url
    trader = new_trader(redis_client, settings, url, "s")
    bad = {**GOOD, "self_trade_prevention": "cancel_both"}

    alone = trader.place(**bad)
    batch = trader.http.post(
        "/orders/batch", json={"orders": [bad, {**GOOD, "self_trade_prevention": "cancel_oldest"}]}
    )

    assert alone.status_code == 422
    assert [d["field"] for d in alone.json()["error"]["details"]] == ["body.self_trade_prevention"]
    rejected, accepted = batch.json()["results"]
    assert rejected["status"] == "rejected"
    assert [d["field"] for d in rejected["error"]["details"]] == ["self_trade_prevention"]
    # The same detail as alone (field named within the order), and a message that says it.
    assert [d["type"] for d in rejected["error"]["details"]] == ["literal_error"]
    assert rejected["error"]["message"].startswith("Invalid order: self_trade_prevention: ")
    assert accepted["order"]["self_trade_prevention"] == "cancel_oldest"
    assert trader.place(**GOOD).json()["self_trade_prevention"] == "none"


def test_batch_accepts_good_orders_and_rejects_bad_ones_each_on_its_own(
    start_api: StartApi, redis_client: redis.Redis, settings: Settings
) -> None:
    _, url = start_api(env={**ORDER_ENV, "JOBCAST_ORDER_BATCH_MAX": "3"})
    trader = new_trader(redis_client, settings, url, "b")
    batch = [GOOD, {**GOOD, "price": "1.001"}, {**GOOD, "symbol": "NOPE"}]

    results = trader.http.post("/orders/batch", json={"orders": batch}).json()["results"]

    assert [r["status"] for r in results] == ["accepted", "rejected", "rejected"]
    assert [r["error"]["code"] for r in results[1:]] == ["price_off_tick", "unknown_symbol"]
    assert results[0]["order"]["status"] == "open"
    too_many = trader.http.post("/orders/batch", json={"orders": [GOOD] * 4})
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "batch_too_large"


def test_listing_pages_through_my_orders_with_filters(
    stack: SharedStack, redis_client: redis.Redis, settings: Settings
) -> None:
    url = stack.url
    trader = new_trader(redis_client, settings, url, "l")
    orders = [
        {**GOOD, "symbol": s, "price": "1.00", "quantity": 10} for s in ["ACME", "SOL-USD"] * 5
    ]
    sent = trader.http.post("/orders/batch", json={"orders": orders}).json()["results"]
    # Oldest first: one batch shares a creation time, and lists in the request's order.
    acme = [r["order"] for r in sent if r["order"]["symbol"] == "ACME"]

    pages, cursor = [], None
    while True:
        params = {"symbol": "ACME", "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = trader.http.get("/orders", params=params).json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break

    # Exactly my five ACME orders, oldest first, each once, as accepted, two to a page.
    assert [o["id"] for page in pages for o in page] == [o["id"] for o in acme]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [o for page in pages for o in page] == [
        trader.http.get(f"/orders/{o['id']}").json() for o in acme
    ]
    assert trader.http.get("/orders", params={"status": "filled"}).json()["items"] == []
    bad = trader.http.get("/orders", params={"cursor": "!!"})
    assert bad.status_code == 422

    # Newest first, paged the same way: the same five, in reverse.
    newest, cursor = [], None
    while True:
        params = {"symbol": "ACME", "limit": 2, "sort": "newest"}
        body = trader.http.get(
            "/orders", params={**params, **({"cursor": cursor} if cursor else {})}
        ).json()
        newest += [o["id"] for o in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert newest == [o["id"] for o in reversed(acme)]
    unknown = trader.http.get("/orders", params={"sort": "biggest"})
    assert unknown.status_code == 422
    assert "'oldest' or 'newest'" in unknown.json()["error"]["message"]


def test_a_bad_status_filter_names_the_statuses_and_an_unknown_symbol_where_to_look(
    stack: SharedStack, redis_client: redis.Redis, settings: Settings
) -> None:
    trader = new_trader(redis_client, settings, stack.url, "filters")

    listed = trader.http.get("/orders", params={"status": "bogus"})
    quote = trader.http.get("/market/NOPE")
    of_nope = trader.http.get("/orders", params={"symbol": "NOPE"})

    assert listed.status_code == 422
    assert "'open'" in listed.text, listed.text
    assert "'filled'" in listed.text
    assert "^(" not in listed.text  # the statuses, not a regular expression
    assert quote.status_code == 404
    assert quote.json()["error"]["message"] == "No symbol 'NOPE': GET /market lists them."
    # Listing by it says so too (it was an empty page, as if there were no orders).
    assert of_nope.status_code == 404
    assert of_nope.json()["error"]["code"] == "not_found"
    assert of_nope.json()["error"]["message"] == quote.json()["error"]["message"]


def test_a_symbol_in_the_wrong_case_is_named_as_it_is_traded(
    stack: SharedStack, redis_client: redis.Redis, settings: Settings
) -> None:
    # `acme` for `ACME` was answered as if no such symbol existed at all.
    trader = new_trader(redis_client, settings, stack.url, "lower-case")
    quote = trader.http.get("/market/acme")
    placed = trader.http.post(
        "/orders", json={"symbol": "acme", "side": "buy", "quantity": 10, "price": "1"}
    )
    assert quote.status_code == 404
    assert quote.json()["error"]["message"] == (
        "No symbol 'acme' (symbols are case-sensitive: 'ACME'): GET /market lists them."
    )
    assert placed.status_code == 422
    assert placed.json()["error"]["code"] == "unknown_symbol"
    assert placed.json()["error"]["message"] == (
        "'acme' is not a traded symbol (symbols are case-sensitive: 'ACME')."
    )


#: JSON numbers as a client writes them, each with more digits than a float holds.
TOO_PRECISE = ["1.00000000000000000001", "1.0000000000000000000000000001"]


def raw_order(price: str, quantity: str = "10") -> str:
    """An order's JSON text with `price` and `quantity` written as numbers, as given."""
    return f'{{"symbol": "ACME", "side": "buy", "quantity": {quantity}, "price": {price}}}'


def test_a_json_number_price_is_read_as_written_not_rounded_to_a_float(
    stack: SharedStack, redis_client: redis.Redis, settings: Settings
) -> None:
    # 1.00000000000000000001 was accepted as price "1.00": read as a float, its digits past a
    # float's went unseen, where the same figure as text is refused by the price rule.
    trader = new_trader(redis_client, settings, stack.url, "exact")
    json_body = {"Content-Type": "application/json"}

    for price in [*TOO_PRECISE, "1e0", "1.0E+0"]:
        answer = trader.http.post("/orders", content=raw_order(price), headers=json_body)
        assert answer.status_code == 422, (price, answer.text)
        assert answer.json()["error"]["code"] == "price_invalid", price
    quantity = trader.http.post("/orders", content=raw_order("1", "10.0"), headers=json_body)
    assert quantity.json()["error"]["details"][0]["field"] == "body.quantity"
    items = ", ".join([raw_order("1.00"), *(raw_order(p) for p in TOO_PRECISE)])
    batch = trader.http.post("/orders/batch", content=f'{{"orders": [{items}]}}', headers=json_body)
    results = batch.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "rejected"]
    assert {r["error"]["code"] for r in results[1:]} == {"price_invalid"}
    placed = trader.http.post("/orders", content=raw_order("1.50"), headers=json_body)
    assert placed.status_code == 201, placed.text
    assert placed.json()["price"] == "1.50"
    orders = trader.http.get("/orders").json()["items"]
    assert [o["price"] for o in orders] == ["1.00", "1.50"]
