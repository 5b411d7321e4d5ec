"""The monitor's charts of things counted one by one mark their axes with whole numbers."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, WebStack

pytestmark = pytest.mark.slow

#: Only the api: with no worker the queues stay empty, the case that drew 0.25 tasks waiting.
STACK_WORKERS = False

#: An axis label that is a figure (the x-axis says "-30 s" and "now").
FIGURE = re.compile(r"^[\d,.]+$")


@pytest.mark.parametrize("chart", ["queues", "ws", "workers"])
def test_a_count_chart_marks_whole_numbers_only(
    web_stack: WebStack, new_page: NewPage, chart: str
) -> None:
    # An idle stack's queue depths were marked 0, 0.25, 0.5, 0.75 and 1: a quarter of a task.
    page = new_page(web_stack.new_key(f"counter-{chart}"))
    page.click("nav a[data-page=monitor]")
    labels = page.locator(f"[data-chart={chart}] text.tick")
    expect(labels.first).to_be_attached(timeout=15_000)
    figures = [text for text in labels.all_text_contents() if FIGURE.match(text)]
    assert len(figures) == 5, figures
    assert all(text.replace(",", "").isdigit() for text in figures), figures
