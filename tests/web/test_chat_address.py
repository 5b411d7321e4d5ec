"""A chat room named by the address: one the server would refuse is said, and stays said once
the page has landed in the lobby instead."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, WebStack

pytestmark = pytest.mark.slow

#: Only the api: the chat needs no worker.
STACK_WORKERS = False


@pytest.mark.parametrize("room", ["bad%20room", "caf%C3%A9", "x" * 200])
def test_a_link_to_an_invalid_room_opened_fresh_says_so_in_the_lobby(
    web_stack: WebStack, new_page: NewPage, room: str
) -> None:
    # Joining the lobby cleared the message set the moment before: nothing was said.
    page = new_page(web_stack.new_key("linker"))
    page.goto("about:blank")  # the link opened anew: the tab keeps its key
    page.goto(f"{web_stack.url}/#/chat/{room}")
    expect(page.locator(".chat-main .card-head h2")).to_have_text("# lobby")
    page.wait_for_selector(".people li")
    expect(page.locator(".chat-main .error")).to_contain_text("No room ")
    expect(page.locator(".chat-main .error")).to_contain_text("1 to 128 ASCII letters")
    assert page.evaluate("location.hash") == "#/chat/lobby"
