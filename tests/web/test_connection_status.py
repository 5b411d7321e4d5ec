"""The connection indicator as a screen reader says it: its state in words, without the dot
drawn before it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, WebStack

pytestmark = pytest.mark.slow

#: Only the api: the indicator needs no worker.
STACK_WORKERS = False


def test_the_connection_status_says_its_state_without_its_dot(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # A reader said "black circle live": the dot drawn by CSS was part of the status's text.
    page = new_page(web_stack.new_key("status-listener"))
    status = page.locator("#conn")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_match_aria_snapshot("- status: live")
    before = status.evaluate("el => getComputedStyle(el, '::before').content")
    assert "●" in before, before  # still drawn on the screen
