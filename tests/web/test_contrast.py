"""Colour contrast of the app's text in real headless Chromium: every text shown on each page,
with each status its chips and connection indicator can take, in the light and dark themes, read
from the computed styles against the background it is drawn on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, WebStack
from tests.web.test_app import submit_file, write_table

pytestmark = pytest.mark.slow

#: Each visible text's element within the elements `scope` selects whose contrast with what is
#: behind it falls short of WCAG's AA: 4.5 : 1, or 3 : 1 for large text (24 px, or 18.66 px
#: bold). The background is the element's
#: and its ancestors' colours laid over each other (a chip's tint over a selected row's shade);
#: opacity fades the text into it. A disabled control's text is exempt, as WCAG has it.
LOW_CONTRAST = r"""(scope) => {
  const rgba = (text) => {
    const parts = text.match(/[\d.]+/g).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const over = (top, below) =>
    [0, 1, 2].map((i) => top[i] * top[3] + below[i] * (1 - top[3])).concat(1);
  const channel = (v) =>
    (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
  const luminance = (c) =>
    0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
  const chain = (el) => {
    const all = [];
    for (let e = el; e; e = e.parentElement) all.push(e);
    return all;
  };
  const background = (el) => chain(el).reverse().reduce(
    (below, e) => over(rgba(getComputedStyle(e).backgroundColor), below), [255, 255, 255, 1]);
  const opacity = (el) =>
    chain(el).reduce((o, e) => o * Number(getComputedStyle(e).opacity), 1);
  const shown = (el) =>
    el.getClientRects().length > 0 && getComputedStyle(el).visibility === "visible";
  const low = [];
  const nodes = [...document.querySelectorAll(scope)].flatMap((root) => {
    const found = [];
    const texts = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = texts.nextNode(); node; node = texts.nextNode()) found.push(node);
    return found;
  });
  for (const node of nodes) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !shown(el)) continue;
    if (el.closest(".visually-hidden, svg, :disabled")) continue;
    const style = getComputedStyle(el);
    const back = background(el);
    const color = rgba(style.color);
    const fore = over([color[0], color[1], color[2], color[3] * opacity(el)], back);
    const [a, b] = [luminance(fore), luminance(back)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const name = `${el.className || el.tagName} "${node.textContent.trim()}"`;
    if (ratio < (large ? 3 : 4.5)) low.push(`${name} ${ratio.toFixed(2)}`);
  }
  return low;
}"""

#: Each state a chip and the connection indicator can show, set on the page's own elements.
STATES = {
    ".chip": ["queued", "running", "retrying", "cancelling", "succeeded", "failed", "cancelled"],
    "#conn": ["idle", "connecting", "live", "reconnecting"],
}
SET_STATE = """([selector, attribute, value]) => {
  for (const el of document.querySelectorAll(selector)) el.setAttribute(attribute, value);
}"""
#: (the colour scheme the browser prefers, the theme chosen with the page's switch, if any).
THEMES = [("light", None), ("dark", None), ("light", "dark"), ("dark", "light")]


def low_contrast(page: Any) -> list[str]:
    """Every text short of contrast on the page shown, in each theme and each status."""
    low: list[str] = []
    for scheme, chosen in THEMES:
        page.emulate_media(color_scheme=scheme)
        page.evaluate("t => t ? document.documentElement.dataset.theme = t : null", chosen)
        found = set(page.evaluate(LOW_CONTRAST, "body"))
        for selector, values in STATES.items():
            attribute = "data-status" if selector == ".chip" else "data-state"
            for value in values:
                page.evaluate(SET_STATE, [selector, attribute, value])
                said = page.evaluate(LOW_CONTRAST, selector)
                found.update(f"{value}: {text}" for text in said)
        page.evaluate("delete document.documentElement.dataset.theme")
        low += [f"{scheme}/{chosen or scheme}: {said}" for said in sorted(found)]
    return low


#: Orders of mine resting on each side of a book (both sides' colours on the page, a Cancel),
#: priced off any other test's: no trade, which would show on a tape other tests expect.
RESTING = [("buy", "0.01"), ("sell", "999.00")]


def rest_both_sides(rest: httpx.Client) -> None:
    for side, price in RESTING:
        body = {"symbol": "ACME", "side": side, "quantity": 10, "price": price}
        answer = rest.post("/orders", json=body)
        assert answer.status_code == 201, answer.text


def cancel_all(rest: httpx.Client) -> None:
    """The orders left resting are cancelled: the next tests share the books."""
    for status in ("open", "partially_filled"):
        for order in rest.get(f"/orders?status={status}").json()["items"]:
            rest.delete(f"/orders/{order['id']}")


def test_every_text_is_legible_on_its_background_in_both_themes(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # Light theme: green on its tint read 3.3 : 1 ("succeeded", "live"), the amber of
    # "reconnecting" 2.8 : 1, grey on a table's header 4.4 : 1.
    key = web_stack.new_key("contrast")
    page = new_page(key)
    submit_file(page, write_table(tmp_path / "shown.csv", 20))
    page.wait_for_selector(".job-detail .chip[data-status=succeeded]")
    low = [f"jobs {said}" for said in low_contrast(page)]
    with web_stack.rest(key) as rest:
        try:
            rest_both_sides(rest)
            page.click("nav a[data-page=market]")
            page.select_option("#symbol", "ACME")
            expect(page.locator(".orders li[data-order-id]")).to_have_count(2)
            low += [f"market {said}" for said in low_contrast(page)]
        finally:
            cancel_all(rest)
    for name in ("chat", "monitor"):
        page.click(f"nav a[data-page={name}]")
        page.wait_for_selector(f"#page-{name} h2")
        low += [f"{name} {said}" for said in low_contrast(page)]
    assert not low, "\n".join(low)
