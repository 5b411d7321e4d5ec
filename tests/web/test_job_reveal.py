"""On a phone the result is below the form and the list: opening a job brings it up, also when
its result arrives after the scroll did."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, WebStack
from tests.web.test_app import submit_file, write_table

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}
DETAIL_TOP = "document.querySelector('.job-detail').getBoundingClientRect().top"


def finished_job(page: Any, path: Path) -> str:
    job_id = submit_file(page, path)
    page.wait_for_selector(".job-detail .chip[data-status=succeeded]", timeout=60_000)
    return job_id


def detail_top_once_still(page: Any) -> float:
    """Where the detail starts once the page has stopped scrolling (a smooth scroll takes a
    few frames). Polled: the page's CSP refuses the eval that wait_for_function needs."""
    deadline = time.monotonic() + 10
    last = None
    while time.monotonic() < deadline:
        page.wait_for_timeout(200)
        top = float(page.evaluate(DETAIL_TOP))
        if top == last:
            return top
        last = top
    raise AssertionError(f"the page kept scrolling: {last}")


def test_on_a_phone_a_result_read_after_the_scroll_is_brought_into_view(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    key = web_stack.new_key("phone-late-result")
    uploader = new_page(key, **PHONE)
    first = finished_job(uploader, write_table(tmp_path / "a.csv", 100))
    finished_job(uploader, write_table(tmp_path / "b.csv", 100))
    # A new tab: neither result has been read there. The detail is one line ("Loading the
    # result…") when the page scrolls to it, so the scroll stopped at the page's end, the
    # result's heading low on the screen and the result itself below it once it came.
    page = new_page(key, **PHONE)
    held: list[Any] = []
    page.route(f"**/jobs/{first}/result", lambda route: held.append(route))
    row = f".job-list li[data-job-id={first}] button.job-open"
    page.wait_for_selector(row)
    page.evaluate("window.scrollTo(0, 0)")
    assert page.evaluate(DETAIL_TOP) > PHONE["height"] / 2

    page.click(row)
    deadline = time.monotonic() + 10
    while not held:
        assert time.monotonic() < deadline, "the page never asked for the result"
        page.wait_for_timeout(50)
    detail_top_once_still(page)  # the scroll made while the result was on its way
    held[0].continue_()

    expect(page.locator(f".job-detail .result[data-job-id={first}] table")).to_be_visible()
    top = detail_top_once_still(page)
    assert 0 <= top < PHONE["height"] / 2, top


def test_on_a_phone_a_link_to_a_job_opens_with_its_result_in_view(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # Opening a job from the list brought its result up, but one named by a link (a new tab,
    # a reload, the address bar) opened below the form and the list, off-screen.
    key = web_stack.new_key("phone-link")
    uploader = new_page(key, **PHONE)
    first = finished_job(uploader, write_table(tmp_path / "a.csv", 100))
    second = finished_job(uploader, write_table(tmp_path / "b.csv", 100))

    page = new_page(key, **PHONE, at=f"/#/jobs/{first}")
    expect(page.locator(f".job-detail .result[data-job-id={first}] table")).to_be_visible()
    top = detail_top_once_still(page)
    assert 0 <= top < PHONE["height"] / 2, top

    page.evaluate("window.scrollTo(0, 0)")
    page.evaluate(f"location.hash = '#/jobs/{second}'")  # followed on the page
    expect(page.locator(f".job-detail .result[data-job-id={second}] table")).to_be_visible()
    top = detail_top_once_still(page)
    assert 0 <= top < PHONE["height"] / 2, top
