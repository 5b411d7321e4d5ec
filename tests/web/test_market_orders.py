"""The market page lists every open order and recent fill of a principal with thousands of orders.

One `GET /orders` request reads at most 2,000 of a principal's orders (LIST_SCAN_LIMIT), so a
page of a rare status or symbol may come back short, even empty, with a cursor to follow.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.web.conftest import WORKERS_API_ENV, NewPage, WebStack

pytestmark = pytest.mark.slow

SYMBOL = "BTC-USD"
#: Another symbol, whose book stays empty: an IOC order there is rejected at once.
OTHER = "ETH-USD"
#: Orders placed between the fills and the open orders: more than one request reads.
FILLER = 2100
#: Orders per `POST /orders/batch` (JOBCAST_ORDER_BATCH_MAX's default).
BATCH = 500
#: The stack's orders burst (conftest's `WORKERS_API_ENV`, shared with the other modules with
#: workers) fits the fillers and the orders around them.
assert int(WORKERS_API_ENV["JOBCAST_RATE_ORDERS_BURST"]) >= FILLER + 100


def order(side: str, price: str, tif: str = "GTC", symbol: str = SYMBOL) -> dict[str, object]:
    return {
        "symbol": symbol,
        "side": side,
        "type": "limit",
        "time_in_force": tif,
        "quantity": 1,
        "price": price,
        "self_trade_prevention": "none",
    }


def place(rest: httpx.Client, orders: list[dict[str, object]]) -> list[str]:
    answer = rest.post("/orders/batch", json={"orders": orders})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert all(r["status"] == "accepted" for r in results), results
    return [r["order"]["id"] for r in results]


def wait_status(rest: httpx.Client, ids: list[str], wanted: str) -> None:
    deadline = time.monotonic() + 30
    while {rest.get(f"/orders/{i}").raise_for_status().json()["status"] for i in ids} != {wanted}:
        assert time.monotonic() < deadline, f"orders not {wanted}"
        time.sleep(0.1)


def place_fillers(rest: httpx.Client) -> None:
    for start in range(0, FILLER, BATCH):
        place(rest, [order("buy", "1", "IOC", OTHER)] * min(BATCH, FILLER - start))


#: Milliseconds the page has to list them: it reads thousands of orders a page at a time, which
#: took past Playwright's default 5 s in a `make test` on a 2-core box at load 14.
LISTED_WITHIN = 30_000


def listed_ids(page: Any, selector: str, expected: list[str]) -> None:
    items = page.locator(selector)
    expect(items).to_have_count(len(expected), timeout=LISTED_WITHIN)
    assert sorted(items.evaluate_all("els => els.map(e => e.dataset.orderId)")) == sorted(expected)


def test_every_open_order_is_listed_past_thousands_of_older_orders(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # A principal with 2,502 orders saw 7 of their 16 open orders (or none), and could not
    # cancel the rest from the page. The ended orders placed last keep the open ones out of the
    # symbol's newest orders too (which "My fills" reads).
    key = web_stack.new_key("many-orders")
    with web_stack.rest(key) as rest:
        place_fillers(rest)
        resting = place(rest, [order("buy", price) for price in ("10", "20", "30")])
        wait_status(rest, resting, "open")
        ended = place(rest, [order("sell", "1000", "IOC")] * 60)
        # A symbol's orders are matched in the order placed: the last one ended, all did (and
        # asking for each of them would run out of the reads budget).
        wait_status(rest, ended[-1:], "cancelled")
    page = new_page(key)
    page.evaluate(f"location.hash = '#/market/{SYMBOL}'")
    listed_ids(page, ".orders li[data-order-id]", resting)


def test_a_fill_is_listed_past_thousands_of_newer_orders_of_other_symbols(
    web_stack: WebStack, new_page: NewPage
) -> None:
    key = web_stack.new_key("many-symbols")
    with web_stack.rest(key) as rest:
        filled = place(rest, [order("sell", "100"), order("buy", "100", "IOC")])
        wait_status(rest, filled, "filled")
        place_fillers(rest)
    page = new_page(key)
    page.evaluate(f"location.hash = '#/market/{SYMBOL}'")
    listed_ids(page, ".fills li[data-order-id]", filled)
