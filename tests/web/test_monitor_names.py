"""The monitor's charts as a screen reader meets them: each named as its card's heading."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, WebStack

pytestmark = pytest.mark.slow

#: Only the api: the names do not depend on what runs.
STACK_WORKERS = False


def test_each_chart_is_named_as_its_heading(web_stack: WebStack, new_page: NewPage) -> None:
    # They were named by the page's internal keys: "cpu", "queues", "ws".
    page = new_page(web_stack.new_key("chart-reader"))
    page.click("nav a[data-page=monitor]")
    charts = page.locator("#page-monitor").get_by_role("img")
    expect(charts).to_have_count(6, timeout=15_000)
    headings = page.locator("#page-monitor h2").all_text_contents()
    assert len(headings) == 6, headings
    for chart, heading in zip(charts.all(), headings, strict=True):
        expect(chart).to_have_accessible_name(heading)
