"""The chat page shows a message as it was written: its line breaks and tabs, and text of
either direction laid out in its own."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from jobcast.client.chat import ChatRoom
from tests.web.conftest import NewPage, WebStack

pytestmark = pytest.mark.slow

#: Only the api: the chat needs no worker.
STACK_WORKERS = False


def say_from_a_program(stack: WebStack, key: str, room: str, text: str) -> None:
    """`text` said in `room` by the Python client, which sends it as it is (tabs, newlines); in
    a thread of its own, as Playwright's sync API keeps an event loop running in this one."""

    async def say() -> None:
        async with ChatRoom(stack.url, key, room) as chat:
            await chat.say(text)

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, say()).result()


def test_a_message_keeps_its_line_breaks_and_each_name_and_text_its_direction(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # "line1\nline2\ttab" was shown "line1 line2 tab"; an Arabic name or message took the
    # direction of the page around it.
    page = new_page(web_stack.new_key("reader"))
    page.evaluate("location.hash = '#/chat/lines'")
    page.wait_for_selector(".chat-main h2:text-is('# lines')")
    say_from_a_program(web_stack, web_stack.new_key("سارة"), "lines", "line1\nline2\ttab")
    message = page.locator(".chat-log li:has(.text)")
    expect(message).to_have_count(1)
    text = message.locator(".text")
    assert text.evaluate("el => el.innerText") == "line1\nline2\ttab"
    # The page redrew its whole log on each event: a box read as the writer's leave came in
    # was None once. Measured once that leave is shown, with nothing more to come.
    expect(page.locator(".chat-log li.notice", has_text=" left ")).to_have_count(1)
    one_line = message.locator(".from").bounding_box()["height"]
    assert text.bounding_box()["height"] > 1.5 * one_line  # two lines on the screen too
    for part in (text, message.locator(".from")):
        expect(part).to_have_attribute("dir", "auto")
    expect(message.locator(".from")).to_have_text("سارة")
    name = message.locator(".from").evaluate("el => getComputedStyle(el).direction")
    assert name == "rtl"


def test_a_long_name_wraps_beside_its_message_instead_of_squeezing_it(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # A 60-letter name took its whole width on one line at a desktop's width and left the
    # message a narrow column of a few words a line beside it.
    page = new_page(web_stack.new_key("reader"), width=1280, height=800)
    page.evaluate("location.hash = '#/chat/names'")
    page.wait_for_selector(".chat-main h2:text-is('# names')")
    writer = web_stack.new_key("a-very-long-name-that-keeps-going-and-going-on-and-on-forever")
    say_from_a_program(web_stack, writer, "names", "a message of some words " * 12)
    message = page.locator(".chat-log li:has(.text)")
    expect(message).to_have_count(1)
    expect(page.locator(".chat-log li.notice", has_text=" left ")).to_have_count(1)
    name = message.locator(".from").bounding_box()
    text = message.locator(".text").bounding_box()
    assert name["width"] < text["width"] / 2, (name, text)
