"""The headings of each page as a screen reader lists them: one first-level heading naming the
page, and no level skipped under it."""

from __future__ import annotations

from itertools import pairwise

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, WebStack

pytestmark = pytest.mark.slow

#: Only the api: the headings do not depend on what runs.
STACK_WORKERS = False

#: The level of every heading a screen reader lists (hidden ones are not), in document order.
LEVELS = """() => [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")]
  .filter((el) => !el.closest("[hidden]"))
  .map((el) => [Number(el.tagName[1]), el.textContent])"""


def test_each_page_has_one_first_level_heading_naming_it(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # Every page's headings started at the second level: no heading said which page it was.
    page = new_page(web_stack.new_key("outliner"))
    for name in ("Market", "Chat", "Monitor", "Jobs"):
        page.click(f"nav a[data-page={name.lower()}]")
        expect(page).to_have_title(f"{name} · Jobcast")
        expect(page.get_by_role("heading", level=1)).to_have_accessible_name(name)
        headings = page.evaluate(LEVELS)
        levels = [level for level, _ in headings]
        assert levels[0] == 1, headings
        assert levels.count(1) == 1, headings
        assert all(after - before <= 1 for before, after in pairwise(levels)), headings
