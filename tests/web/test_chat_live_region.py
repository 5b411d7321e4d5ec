"""What a screen reader hears of the chat: its log is a live region, so each line put into it
is read out, and only a new line should be."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, WebStack
from tests.web.test_chat_text import say_from_a_program

pytestmark = pytest.mark.slow

#: Only the api: the chat needs no worker.
STACK_WORKERS = False

#: Keeps the text of every line put into the log, and of every line taken out, from now on.
HEAR_LOG = """() => {
  window.heard = {added: [], removed: []};
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) window.heard.added.push(node.textContent);
      for (const node of record.removedNodes) window.heard.removed.push(node.textContent);
    }
  }).observe(document.querySelector(".chat-log"), {childList: true});
}"""


def said(stack: WebStack, page: Any, room: str, text: str) -> None:
    """`text` said in `room` by someone else, once the page shows it and the speaker's leave."""
    say_from_a_program(stack, stack.new_key("speaker"), room, text)
    expect(page.locator(".chat-log .text", has_text=text)).to_have_count(1)
    leaves = page.locator(".chat-log li.notice", has_text=" left ")
    expect(leaves).to_have_count(page.locator(".chat-log .text").count())


def test_a_new_message_is_the_only_line_put_into_the_live_log(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # Each event redrew the whole log: a reader heard every message again with each new one.
    page = new_page(web_stack.new_key("hearer"))
    page.evaluate("location.hash = '#/chat/heard'")
    page.wait_for_selector(".chat-main h2:text-is('# heard')")
    expect(page.locator(".chat-log")).to_have_attribute("aria-live", "polite")
    said(web_stack, page, "heard", "first words")
    page.evaluate(HEAR_LOG)
    said(web_stack, page, "heard", "second words")
    heard = page.evaluate("window.heard")
    assert heard["removed"] == [], heard
    assert [line for line in heard["added"] if "words" in line] == [
        next(line for line in heard["added"] if "second words" in line)
    ], heard
    assert len(heard["added"]) == 3, heard  # the speaker joined, spoke, and left
