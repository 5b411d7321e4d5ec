"""An address the app cannot follow (no such page, a malformed job id, no job of the user's) is
said, and the address is corrected to what is shown, as a link to an unknown symbol is on the
market page."""

from __future__ import annotations

import re
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


def said_and_dropped(page: Any, message: str) -> None:
    expect(page.locator(".job-detail .missing-job")).to_contain_text(message)
    expect(page).to_have_url(re.compile(r"#/jobs$"))


@pytest.mark.parametrize(
    ("job", "message"),
    [
        # The walk saw the address keep "..%2Fme" on a page opened at it ("%2F" is no "/").
        ("..%2Fme", 'No job "..%2Fme": a job\'s id is letters'),
        # Well-formed, but no job of this user's: said, and dropped as a malformed one is.
        ("j_000000000000000000000000", "No job j_000000000000000000000000 of yours"),
    ],
)
def test_a_link_to_no_job_of_yours_is_said_and_dropped_however_it_is_followed(
    web_stack: WebStack, new_page: NewPage, job: str, message: str
) -> None:
    link = f"/#/jobs/{job}"
    page = new_page(web_stack.new_key("linked"), at=link)  # a new tab, signed in there
    said_and_dropped(page, message)
    open_anew(page, web_stack.url + link)  # a reload: the tab's key starts the pages
    said_and_dropped(page, message)
    page.evaluate(f"location.hash = '{link[1:]}'")  # followed on the open jobs page
    said_and_dropped(page, message)
    page.click("nav a[data-page=chat]")
    page.evaluate(f"location.hash = '{link[1:]}'")  # and from another page
    said_and_dropped(page, message)


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


def test_a_linked_job_the_api_could_not_read_for_now_stays_in_the_address(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # A 503 (the api busy, Redis away) dropped the link as if no such job were the user's, so a
    # reload once the api answered again did not open it.
    page = new_page(web_stack.new_key("patient"))
    job = "j_0123456789abcdef01234567"
    said = "Redis is unavailable; retry shortly."
    unavailable = {"error": {"code": "redis_unavailable", "message": said}}
    page.route(
        f"**/jobs/{job}",
        lambda route: route.fulfill(status=503, json=unavailable, headers={"Retry-After": "1"}),
    )
    page.evaluate(f"location.hash = '#/jobs/{job}'")
    expect(page.locator(".job-detail .missing-job")).to_contain_text(said)
    page.wait_for_timeout(300)  # nothing later drops it either
    assert page.evaluate("location.hash") == f"#/jobs/{job}"
    page.unroute(f"**/jobs/{job}")
    open_anew(page, f"{web_stack.url}/#/jobs/{job}")  # asked again: now the answer is a 404
    said_and_dropped(page, f"No job {job} of yours")
