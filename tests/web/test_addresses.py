"""An address the app cannot follow (no such page, a malformed job id) is said, and the address
is corrected to what is shown, as a link to an unknown symbol is on the market page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, WebStack

pytestmark = pytest.mark.slow

#: Only the api: these pages are shown, no job is run.
STACK_WORKERS = False


def open_anew(page: Any, url: str) -> None:
    page.goto("about:blank")  # the link opened anew: the tab keeps its key
    page.goto(url)
    page.wait_for_selector("#conn[data-state=live]")


def test_a_malformed_job_id_in_the_address_is_said_and_dropped(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # It showed "Pick a job…" with no word, the address still naming it.
    page = new_page(web_stack.new_key("typo"))
    page.evaluate("location.hash = '#/jobs/a%20b'")
    expect(page.locator(".job-detail .missing-job")).to_contain_text('No job "a b"')
    assert page.evaluate("location.hash") == "#/jobs"
    open_anew(page, f"{web_stack.url}/#/jobs/a%20b")
    expect(page.locator(".job-detail .missing-job")).to_contain_text('No job "a b"')
    assert page.evaluate("location.hash") == "#/jobs"


def test_an_unknown_page_in_the_address_is_said_and_the_address_names_jobs(
    web_stack: WebStack, new_page: NewPage
) -> None:
    page = new_page(web_stack.new_key("wanderer"))
    page.evaluate("location.hash = '#/nonsense'")
    note = page.locator("#route-note")
    expect(note).to_have_text('No page "nonsense"; showing Jobs.')
    expect(page.locator("#page-jobs")).to_be_visible()
    assert page.evaluate("location.hash") == "#/jobs"
    page.click("nav a[data-page=chat]")  # moved on: the note is old news
    expect(note).to_be_hidden()
    open_anew(page, f"{web_stack.url}/#/nonsense/x")
    expect(note).to_have_text('No page "nonsense"; showing Jobs.')
    assert page.evaluate("location.hash") == "#/jobs"
    page.focus(".skip")  # the skip link's own "#main" is no page's address
    page.keyboard.press("Enter")
    expect(note).to_be_hidden()
