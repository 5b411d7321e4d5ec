"""The pages while the api is stalled (SIGSTOP: its sockets stay open, nothing answers), as a
hung host or a long GC pause looks to a browser, and once it answers again."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, WebStack

pytestmark = pytest.mark.slow


#: Only the api: orders are taken (and listed) by it, the chat is served by it.
STACK_WORKERS = False
#: How long the page waits for a frame before it presumes its socket dead (live.js).
SILENCE_LIMIT_S = 40


@contextmanager
def stalled(stack: WebStack) -> Iterator[None]:
    """The api stopped for the block, and running again after it, whatever the block did."""
    stack.api.kill_group(signal.SIGSTOP)
    try:
        yield
    finally:
        stack.api.kill_group(signal.SIGCONT)


def test_the_badge_says_reconnecting_once_the_silence_limit_passes(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # It said "live" for a minute more: Chromium reports a close only after the closing
    # handshake, which a stalled peer never answers.
    page = new_page(web_stack.new_key("patient"))
    conn = page.locator("#conn")
    with stalled(web_stack):
        stopped = time.monotonic()
        within = (SILENCE_LIMIT_S + 10) * 1000
        expect(conn).to_have_attribute("data-state", "reconnecting", timeout=within)
        assert time.monotonic() - stopped <= SILENCE_LIMIT_S + 2
        expect(conn).to_have_text("reconnecting…")
    expect(conn).to_have_attribute("data-state", "live")
    expect(conn).to_have_text("live")
