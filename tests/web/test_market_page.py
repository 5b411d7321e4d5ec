"""The market page's orders in real headless Chromium against a real stack: cancelling one (an
order that filled meanwhile, from the keyboard), and what the page says of them.

Each test trades its own symbol, so no test's orders meet another's in a book."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, WebStack, open_book

pytestmark = pytest.mark.slow


def resting(rest: httpx.Client, symbol: str, side: str, quantity: int, price: str) -> str:
    body = {"symbol": symbol, "side": side, "quantity": quantity, "price": price}
    answer = rest.post("/orders", json=body)
    assert answer.status_code == 201, answer.text
    order_id: str = answer.json()["id"]
    return order_id


#: An order's fill event, as the server frames it (compact JSON, one event a frame).
FILL_EVENT = re.compile(r'"type":"order\.(partially_)?filled"')


def missing_fill_events(page: Any) -> None:
    """From now on the page's WebSocket loses every event of an order filling, as a page does
    whose fill event came while it was away; reloaded, so its socket is opened anew."""

    def route(ws: Any) -> None:
        server = ws.connect_to_server()
        server.on_message(lambda m: None if FILL_EVENT.search(str(m)) else ws.send(m))

    page.route_web_socket(re.compile(r"/ws\?"), route)
    page.reload()
    page.wait_for_selector("#conn[data-state=live]")


def test_a_cancel_of_an_order_filled_unseen_ends_its_row_and_says_so_beside_the_list(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # The 409 was said in the ticket's error line as "The order is already filled.
    # (order_not_open)", and the row stayed listed open, with its Cancel, until a reconnect.
    key = web_stack.new_key("unseen-fill")
    page = new_page(key)
    missing_fill_events(page)
    open_book(page, "SOL-USD")
    with web_stack.rest(key) as rest:
        order_id = resting(rest, "SOL-USD", "sell", 4, "20.00")
    row = page.locator(f".orders li[data-order-id={order_id}]")
    expect(row).to_be_visible()
    with web_stack.rest(web_stack.new_key("sol-taker")) as taker:
        resting(taker, "SOL-USD", "buy", 4, "20.00")
    page.wait_for_selector(".tape li:has-text('20.00')")  # traded; the page missed the fill
    expect(row).to_be_visible()
    row.locator("button").click()
    expect(row).to_have_count(0)
    note = page.locator(".card:has(> .orders) .cancel-note")
    expect(note).to_have_attribute("data-order-id", order_id)
    expect(note).to_have_text(
        "Limit sell 4 SOL-USD @ 20.00 filled before the cancel reached it: nothing was left to "
        "cancel."
    )
    expect(page.locator(".ticket p.error")).to_have_text("")


def test_enter_on_cancel_moves_focus_to_the_next_orders_cancel_named_by_its_order(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # Its row went, and focus fell to <body>: a keyboard user started again from the top. The
    # button was named "Cancel order o_f80267693210cd917b47".
    key = web_stack.new_key("keyboard-trader")
    page = new_page(key)
    open_book(page, "BTC-USD")
    with web_stack.rest(key) as rest:
        older = resting(rest, "BTC-USD", "buy", 2, "100.5")
        newer = resting(rest, "BTC-USD", "buy", 3, "101.5")
    first = page.get_by_role("button", name="Cancel buy 3 BTC-USD @ 101.5", exact=True)
    second = page.get_by_role("button", name="Cancel buy 2 BTC-USD @ 100.5", exact=True)
    expect(second).to_be_visible()
    first.focus()
    page.keyboard.press("Enter")
    expect(page.locator(f".orders li[data-order-id={newer}]")).to_have_count(0)
    expect(second).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(f".orders li[data-order-id={older}]")).to_have_count(0)
    expect(page.get_by_role("heading", name="My open orders")).to_be_focused()


def test_a_rule_the_server_refuses_is_said_by_its_message_without_its_code(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # "price must be a multiple of the tick size 0.01. (price_off_tick)": the code is for
    # programs. The page's rules are a finer tick than the server's, as when the operator
    # changed them after the page read them, so the ticket lets a price through that the
    # server refuses.
    page = new_page(web_stack.new_key("stale-rules"))

    def finer_tick(route: Any) -> None:
        market = route.fetch().json()
        for rules in market["symbols"]:
            rules["tick_size"] = "0.001"
        route.fulfill(json=market)

    page.route(re.compile(r"/market$"), finer_tick)
    page.reload()
    page.wait_for_selector("#conn[data-state=live]")
    open_book(page, "ACME")
    page.fill(".ticket input[name=quantity]", "10")
    page.fill(".ticket input[name=price]", "5.005")
    with page.expect_response(re.compile(r"/orders$")) as refused:
        page.click(".ticket button[type=submit]")
    assert refused.value.status == 422
    assert json.loads(refused.value.body())["error"]["code"] == "price_off_tick"
    expect(page.locator("#err-price")).to_have_text(
        "Price must be a multiple of the tick size 0.01."
    )


def test_an_order_that_cancels_several_of_mine_says_what_it_did_and_how_many(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # The line said only the last resting order cancelled ("Limit sell 10 ACME @ 7.00
    # cancelled: it would have traded with an order of yours"), not the order just placed.
    key = web_stack.new_key("self-crosser")
    page = new_page(key)
    open_book(page, "ACME")
    with web_stack.rest(key) as rest:
        for price in ("7.00", "7.01", "7.02"):
            resting(rest, "ACME", "sell", 10, price)
    expect(page.locator(".orders li[data-order-id]")).to_have_count(3)
    page.fill(".ticket input[name=quantity]", "40")
    page.fill(".ticket input[name=price]", "7.05")
    page.select_option(".ticket select[name=self_trade_prevention]", "cancel_oldest")
    page.click(".ticket button[type=submit]")
    expect(page.locator(".orders li[data-order-id]")).to_have_count(1)  # the one placed
    placed = page.locator(".orders li[data-order-id]").get_attribute("data-order-id")
    outcome = page.locator(".ticket .outcome")
    expect(outcome).to_have_text(
        "Limit buy 40 ACME @ 7.05 rests on the book. It cancelled 3 resting orders of yours it "
        "would have traded with (self-trade prevention)."
    )
    expect(outcome).to_have_attribute("data-order-id", placed)


def test_the_book_and_the_tape_say_each_sides_name_not_only_its_colour(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # Asks and bids, buys and sells, were told apart only by colour; the ladder was a div with
    # a label and no role, and the self-trade select's name did not contain its visible label.
    page = new_page(web_stack.new_key("screen-reader"))
    open_book(page, "ETH-USD")
    with (
        web_stack.rest(web_stack.new_key("eth-maker")) as maker,
        web_stack.rest(web_stack.new_key("eth-taker")) as taker,
    ):
        resting(maker, "ETH-USD", "sell", 5, "2100.00")
        resting(maker, "ETH-USD", "buy", 4, "2000.00")
        resting(maker, "ETH-USD", "sell", 1, "2050.00")
        resting(taker, "ETH-USD", "buy", 1, "2050.00")
    book = page.get_by_role("table", name="Order book")
    expect(book.get_by_role("columnheader")).to_have_text(["Side", "Price", "Quantity"])
    expect(book.get_by_role("row", name="Ask 2100.00 5", exact=True)).to_be_visible()
    expect(book.get_by_role("row", name="Bid 2000.00 4", exact=True)).to_be_visible()
    trade = page.locator(".tape li[data-seq]").first
    expect(trade).to_contain_text("buy2050.00")
    expect(page.locator(".ticket select[name=self_trade_prevention]")).to_have_accessible_name(
        re.compile(r"^Against my own orders\b")
    )


def test_an_order_of_mine_filling_later_is_said_in_the_tickets_status_line(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # A rejection or a cancel was said, a fill never: to a screen reader the order only left
    # "My open orders", and a line was added to "My fills", neither of them a live region.
    key = web_stack.new_key("patient-buyer")
    page = new_page(key)
    open_book(page, "SOL-USD")
    page.fill(".ticket input[name=quantity]", "5")
    page.fill(".ticket input[name=price]", "21.00")
    page.click(".ticket button[type=submit]")
    expect(page.locator(".orders li[data-order-id]")).to_have_count(1)
    status = page.get_by_role("status").filter(has_text="SOL-USD")
    with web_stack.rest(web_stack.new_key("sol-seller")) as seller:
        resting(seller, "SOL-USD", "sell", 2, "21.00")
        expect(status).to_have_text(
            "Limit buy 5 SOL-USD @ 21.00 2 filled; the other 3 rest on the book."
        )
        resting(seller, "SOL-USD", "sell", 3, "21.00")
    expect(status).to_have_text("Limit buy 5 SOL-USD @ 21.00 filled.")
    expect(page.locator(".orders li[data-order-id]")).to_have_count(0)
