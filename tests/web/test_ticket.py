"""The order ticket reads figures as people type them and sends them as the api takes them."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, WebStack, ticket_module

pytestmark = pytest.mark.slow

#: ACME's rules as GET /market gives them (jobcast/orders/symbols.py DEFAULT_SYMBOLS).
ACME = "ACME"


#: Only the api: an order is accepted (201) before any matching runs.
STACK_WORKERS = False


def test_a_figure_is_read_as_typed_and_spelt_as_the_api_takes_it(
    web_stack: WebStack, new_page: NewPage
) -> None:
    page = new_page(web_stack.new_key("speller"))
    spelt = page.evaluate(
        "async ([src, texts]) => { const { plainDecimal } = await import(src);"
        " return texts.map(plainDecimal); }",
        [ticket_module(page), [".5", "5.", "+5", "-.5", "007.50", "0.00", "10.0", "1.25"]],
    )
    assert spelt == ["0.5", "5", "5", "-0.5", "7.5", "0", "10", "1.25"]
    nothing = page.evaluate(
        "async ([src, texts]) => { const { plainDecimal } = await import(src);"
        " return texts.map(plainDecimal); }",
        [ticket_module(page), [".", "+", "-", "", "1e2", "0x10", "1,5", "5..5", "--5", "+-5"]],
    )
    assert nothing == [None] * 10


#: Prices as someone might type them; the ticket must pass exactly those the api takes.
PRICES = [
    ".5", "5.", "+5", "0.5", "1.25", "+.25", "000000000000000001.5", "5.000000000000000",
    "1.255", "0", "-5", "-.5", "1e2", "1,5", "abc", "1234567890123456", "1.0000000000001",
]  # fmt: skip


#: A limit order as the ticket's form reads it, before its price.
TYPED = {
    "symbol": ACME,
    "side": "buy",
    "type": "limit",
    "time_in_force": "GTC",
    "quantity": "+10",
    "self_trade_prevention": "none",
}


def test_the_ticket_passes_exactly_the_prices_the_api_takes(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # ".5", "5." and "+5" were refused as not numbers; the api refused them too, as written.
    key = web_stack.new_key("cross-checker")
    page = new_page(key)
    with web_stack.rest(key) as rest:
        rules = next(s for s in rest.get("/market").json()["symbols"] if s["symbol"] == ACME)
        for price in PRICES:
            order = {**TYPED, "price": price}
            errors, body = page.evaluate(
                "async ([src, rules, order]) => { const t = await import(src);"
                " return [t.checkOrder(rules, order), t.orderBody(order)]; }",
                [ticket_module(page), rules, order],
            )
            if errors:
                raw = {**body, "price": price}  # as typed: the api refuses it too
                assert rest.post("/orders", json=raw).status_code == 422, (price, errors)
            else:
                answer = rest.post("/orders", json=body)
                assert answer.status_code == 201, (price, body, answer.text)


def test_the_ticket_says_what_to_fix_in_a_price_past_the_apis_digits(
    web_stack: WebStack, new_page: NewPage
) -> None:
    page = new_page(web_stack.new_key("long-figures"))
    rules = {"tick_size": "0.01", "lot_size": 1, "min_quantity": 1, "max_quantity": 1000}
    cases = {
        "1234567890123456": "At most 15 digits before the decimal point.",
        "1.0000000000001": "At most 12 digits after the decimal point.",
        # A comma: a decimal comma or a thousands separator, said rather than guessed.
        "1,5": "Use a point for decimals (1.5) and no thousands separator (1500).",
        "1,500.25": "Use a point for decimals (1.5) and no thousands separator (1500).",
        "1,5x": "Enter a number: digits with an optional decimal point.",
        "-.5": "Enter a price above 0.",
    }
    for price, message in cases.items():
        order = {"type": "limit", "quantity": "1", "price": price}
        errors = page.evaluate(
            "async ([src, rules, order]) => (await import(src)).checkOrder(rules, order)",
            [ticket_module(page), rules, order],
        )
        assert errors == {"price": message}, (price, errors)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_price_typed_as_point_5_is_placed_and_a_mistyped_one_said_beside_it(
    web_stack: WebStack, new_page: NewPage, width: int
) -> None:
    page = new_page(web_stack.new_key(f"natural-{width}"), width=width, height=844)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.evaluate(f"location.hash = '#/market/{ACME}'")
    page.wait_for_selector(".ladder .spread")
    page.fill(".ticket input[name=quantity]", "+10")
    page.fill(".ticket input[name=price]", ".5")
    with page.expect_response(lambda r: r.url.endswith("/orders")) as placed:
        page.click(".ticket button[type=submit]")
    assert placed.value.status == 201
    sent = json.loads(placed.value.request.post_data)
    assert (sent["quantity"], sent["price"]) == (10, "0.5")
    expect(page.locator("#err-price")).to_have_text("")
    expect(page.locator("#err-quantity")).to_have_text("")
    page.fill(".ticket input[name=price]", "0.5.1")
    page.click(".ticket button[type=submit]")
    said = page.locator("#err-price")
    expect(said).to_have_text("Enter a number: digits with an optional decimal point.")
    said.scroll_into_view_if_needed()
    expect(said).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert errors == []


def test_the_ticket_writes_the_limits_it_names_with_thousands_separators(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # "At most 1000000." and "... must be at most 100000000.": a figure of seven or nine digits
    # to count by eye, beside the rules line's "qty 10-1,000,000".
    page = new_page(web_stack.new_key("big-figures"))
    page.evaluate(f"location.hash = '#/market/{ACME}'")
    page.wait_for_selector(".ladder .spread")
    page.fill(".ticket input[name=quantity]", "2000000")
    page.fill(".ticket input[name=price]", "1")
    page.click(".ticket button[type=submit]")
    expect(page.locator("#err-quantity")).to_have_text("At most 1,000,000.")
    page.fill(".ticket input[name=quantity]", "1000000")
    page.fill(".ticket input[name=price]", "999")
    page.click(".ticket button[type=submit]")
    said = "Price \u00d7 quantity must be at most 100,000,000."  # the sign ruff finds ambiguous
    expect(page.locator("#err-price")).to_have_text(said)
