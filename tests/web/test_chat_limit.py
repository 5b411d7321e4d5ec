"""The chat page checks a message against the limit its server names (auth.ok), not a copy."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NO_WORKERS_API_ENV, NewPage, WebStack

pytestmark = pytest.mark.slow


#: Only the api (the chat needs no worker), with a limit other than the default: 500 bytes, as
#: every such module's (conftest's `NO_WORKERS_API_ENV`), so they share a stack.
STACK_WORKERS = False
LIMIT = "JOBCAST_CHAT_MAX_MESSAGE_BYTES"
assert NO_WORKERS_API_ENV[LIMIT] == "500"  # what the tests below say and send


def watch(page: Any, logged: bool = True) -> tuple[list[str], list[str]]:
    """The chat frames the page sends from now on, and its errors: uncaught, and with `logged`
    those in the console too (the browser logs each refused connection while an api is down)."""
    sent: list[str] = []
    errors: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(str(frame))))
    page.on("pageerror", lambda error: errors.append(str(error)))
    if logged:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return sent, errors


def open_room(page: Any, room: str) -> None:
    page.evaluate(f"location.hash = '#/chat/{room}'")
    page.reload()  # its WebSocket opened again, now watched
    page.wait_for_selector(f".chat-main h2:text-is('# {room}')")
    page.wait_for_selector("#conn[data-state=live]")


def say(page: Any, text: str) -> None:
    page.fill("#say", text)
    page.press("#say", "Enter")


def too_long(size: str, limit: str) -> str:
    return (
        f"Too long to send: {size} bytes, and a message may have {limit} bytes of UTF-8: "
        f"{limit} plain letters, fewer with accents (2 bytes each) or emoji (4)."
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_the_page_holds_messages_to_the_limit_its_server_names(
    web_stack: WebStack, new_page: NewPage, width: int
) -> None:
    # The page copied 2,000 bytes: on a server limited to 500 it let 600 through to be refused.
    page = new_page(web_stack.new_key(f"terse-{width}"), width=width, height=844)
    sent, errors = watch(page)
    open_room(page, f"terse-{width}")
    say(page, "é" * 250)  # 500 bytes: the most this server takes
    expect(page.locator(".chat-log .text")).to_have_text(["é" * 250])
    say(page, "a" * 600)
    expect(page.locator(".chat-main .error")).to_have_text(too_long("600", "500"))
    expect(page.locator(".chat-main .error")).to_be_in_viewport()
    assert page.input_value("#say") == "a" * 600  # kept, to be shortened
    assert sum("publish" in frame for frame in sent) == 1, sent
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert errors == []


def without_limits(frame: str | bytes) -> str | bytes:
    """An auth.ok as a server from before `limits` sends it; any other frame as it is."""
    message = json.loads(frame)
    if message.get("type") != "auth.ok":
        return frame
    message.pop("limits", None)
    return json.dumps(message)


def test_a_server_that_names_no_limit_gets_the_default_of_2000_bytes(
    web_stack: WebStack, new_page: NewPage
) -> None:
    page = new_page(web_stack.new_key("vintage"))

    def relay(route: Any) -> None:
        server = route.connect_to_server()
        server.on_message(lambda frame: route.send(without_limits(frame)))

    page.route_web_socket("**/ws?*", relay)
    _, errors = watch(page)
    open_room(page, "vintage")
    say(page, "a" * 2001)
    expect(page.locator(".chat-main .error")).to_have_text(too_long("2,001", "2,000"))
    assert errors == []


def test_after_a_restart_with_a_new_limit_the_page_holds_to_the_new_one(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # Above the page's old copy (2,000), and learnt again when the socket reconnects.
    page = new_page(web_stack.new_key("wordy"))
    _, errors = watch(page, logged=False)
    open_room(page, "wordy")
    web_stack.api_env[LIMIT] = "3000"
    try:
        web_stack.api.stop()
        page.wait_for_selector("#conn[data-state=reconnecting]")
        web_stack.start_api()
        page.wait_for_selector("#conn[data-state=live]")
        say(page, "a" * 2500)
        expect(page.locator(".chat-log .text")).to_have_text(["a" * 2500])
        say(page, "a" * 3001)
        expect(page.locator(".chat-main .error")).to_have_text(too_long("3,001", "3,000"))
    finally:
        # The api keeps the new limit: restarted back by the next test that needs the module's
        # (conftest's `_api_as_asked`), and this test comes last, so none does here.
        web_stack.api_env[LIMIT] = NO_WORKERS_API_ENV[LIMIT]
    assert errors == []
