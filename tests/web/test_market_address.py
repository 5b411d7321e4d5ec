"""A link to a symbol the market does not list says so and shows (and addresses) another."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, WebStack

pytestmark = pytest.mark.slow


#: Only the api: the symbols, books and trades are read from it.
STACK_WORKERS = False


def errors_of(page: Any) -> list[str]:
    """The page's errors from now on, uncaught or logged."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def go(page: Any, hash_: str) -> None:
    page.evaluate(f"location.hash = {hash_!r}")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_link_to_an_unknown_symbol_names_it_and_the_address_names_the_one_shown(
    web_stack: WebStack, new_page: NewPage, width: int
) -> None:
    # It kept showing ACME under #/market/NOPE without a word.
    page = new_page(web_stack.new_key(f"linked-{width}"), width=width, height=844)
    errors = errors_of(page)
    go(page, "#/market/ACME")
    page.wait_for_selector(".ladder .spread")
    go(page, "#/market/NOPE")
    note = page.locator(".market-head .address-note")
    expect(note).to_have_text('No symbol "NOPE" here; showing ACME.')
    expect(note).to_be_in_viewport()
    expect(page).to_have_url(re.compile("#/market/ACME$"))
    expect(page.locator("#symbol")).to_have_value("ACME")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.select_option("#symbol", "SOL-USD")  # the trader moved on: the note is old news
    expect(note).to_be_hidden()
    expect(page).to_have_url(re.compile("#/market/SOL-USD$"))
    assert errors == []


def test_opening_the_page_at_an_unknown_symbol_says_so_over_the_default(
    web_stack: WebStack, new_page: NewPage
) -> None:
    page = new_page(web_stack.new_key("bookmarked"))
    errors = errors_of(page)
    default = page.locator("#symbol option").first.get_attribute("value")
    # A kept link to a symbol no longer traded, opened anew (set without a hashchange, which
    # the open page would answer at once).
    page.evaluate("history.replaceState(null, '', '#/market/GONE-USD')")
    page.reload()
    note = page.locator(".market-head .address-note")
    expect(note).to_have_text(f'No symbol "GONE-USD" here; showing {default}.')
    expect(page).to_have_url(re.compile(f"#/market/{default}$"))
    expect(page.locator(".ladder .spread")).to_be_visible()
    assert errors == []


def test_a_symbol_in_the_wrong_case_is_told_the_one_meant(
    web_stack: WebStack, new_page: NewPage
) -> None:
    page = new_page(web_stack.new_key("lowercase"))
    go(page, "#/market/BTC-USD")
    page.wait_for_selector(".ladder .spread")
    go(page, "#/market/acme")
    expect(page.locator(".market-head .address-note")).to_have_text(
        'No symbol "acme" here (symbols are case-sensitive: ACME); showing BTC-USD.'
    )
