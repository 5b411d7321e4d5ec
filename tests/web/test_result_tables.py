"""A job's result tables in real headless Chromium, for results as older or newer workers stored
them: written into Redis as a worker commits them (no worker runs here: each job is finished by
hand, with the result such a worker left)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from jobcast.events import commit
from jobcast.jobs.params import JobParams
from jobcast.jobs.records import SUCCEEDED
from tests.web.conftest import NewPage, WebStack
from tests.workers.files.support import SMALL_BATCHES
from workers.files.runner import Hooks, run_job
from workers.files.state import JobState

pytestmark = pytest.mark.slow

STACK_WORKERS = False
#: What a cell without a value shows (an en dash).
NONE = "\u2013"
AGGREGATE = JobParams(operation="aggregate", group_by=["city"], metrics={"amount": ["sum"]})


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "sales.csv"
    path.write_text("city,amount\nParis,10\nLyon,5\n")
    return path


def finished_job(stack: WebStack, key: str, path: Path, params: JobParams, **change: Any) -> str:
    """A job submitted over REST and finished as a worker would, its result altered by `change`
    (as an older or newer worker would have written it)."""
    with stack.rest(key) as rest, path.open("rb") as f:
        answer = rest.post("/jobs", files={"file": f}, data={"params": params.model_dump_json()})
    assert answer.status_code == 202, answer.text
    job_id = str(answer.json()["id"])
    result = run_job(path, params, SMALL_BATCHES, Hooks(), path.with_suffix(".out"))
    result.update(duration_seconds=0.5, cpu_seconds=0.25, peak_rss_bytes=300 << 20, **change)
    loaded = JobState.load(stack.redis, job_id, stack.settings.job_retention)
    assert loaded is not None
    state, _ = loaded
    assert state.start(attempt=1, size=path.stat().st_size).committed
    assert commit(state.client, state.outcome(SUCCEEDED, result=result)).committed
    return job_id


def column(page: Any, name: str) -> list[str]:
    heads = page.locator("table.aggregate th").all_text_contents()
    cells = page.locator(f"table.aggregate tbody td:nth-child({heads.index(name) + 1})")
    return list(cells.all_text_contents())


def sort_by(page: Any, name: str, direction: str) -> None:
    header = page.locator(f"table.aggregate th:has(button:text-is('{name}'))")
    header.locator("button").click()
    expect(header).to_have_attribute("aria-sort", direction)


def test_decimals_stored_as_text_sort_as_numbers_and_text_after_them(
    web_stack: WebStack, new_page: NewPage, table: Path
) -> None:
    # Older workers kept a decimal column's sums as text: "102.50" sorted before "5.00".
    rows = [
        {"city": "Paris", "amount_sum": "102.50"},
        {"city": "10", "amount_sum": "5.00"},
        {"city": 9, "amount_sum": "12.25"},
        {"city": "Lyon", "amount_sum": "-3.10"},
        {"city": None, "amount_sum": None},
    ]
    key = web_stack.new_key("ledger")
    job_id = finished_job(web_stack, key, table, AGGREGATE, table=rows, groups=len(rows))
    page = new_page(key, at=f"/#/jobs/{job_id}")
    expect(page.locator("table.aggregate tbody tr")).to_have_count(len(rows))

    sort_by(page, "amount_sum", "ascending")
    assert column(page, "amount_sum") == ["-3.10", "5.00", "12.25", "102.50", NONE]
    sort_by(page, "amount_sum", "descending")
    assert column(page, "amount_sum") == ["102.50", "12.25", "5.00", "-3.10", NONE]
    # A mixed column: numbers (and text that spells one) by value, then the words; empty last.
    sort_by(page, "city", "ascending")
    assert column(page, "city") == ["9", "10", "Lyon", "Paris", NONE]


def test_a_column_type_unknown_to_the_page_is_shown_as_written(
    web_stack: WebStack, new_page: NewPage, table: Path
) -> None:
    key = web_stack.new_key("profiler")
    result = run_job(table, JobParams(), SMALL_BATCHES, Hooks(), table.with_suffix(".out"))
    profile = [{**result["profile"][0], "type": "quarter"}, *result["profile"][1:]]
    job_id = finished_job(web_stack, key, table, JobParams(), profile=profile)
    page = new_page(key, at=f"/#/jobs/{job_id}")

    first = page.locator("table.profile tbody tr").first
    expect(first.locator("td").first).to_have_text("quarter")


def shade(frame: Any, edge: str) -> str:
    """The opacity of the frame's shade at `edge` ("::before" left, "::after" right)."""
    opacity: str = frame.evaluate(f"(el) => getComputedStyle(el, '{edge}').opacity")
    return opacity


def test_a_profile_wider_than_a_phone_says_it_scrolls_sideways_and_scrolls_by_keyboard(
    web_stack: WebStack, new_page: NewPage, table: Path
) -> None:
    # On a phone the profile's columns past `distinct` were cut at the screen's edge, with
    # nothing to say that more lay beyond it, nor a way to reach them but a swipe.
    key = web_stack.new_key("phone")
    job_id = finished_job(web_stack, key, table, JobParams())
    page = new_page(key, width=390, height=844, at=f"/#/jobs/{job_id}")
    page.emulate_media(reduced_motion="reduce")  # the shades then show and go at once
    region = page.get_by_role("region", name="Profile of each column")
    expect(region).to_have_accessible_description(re.compile("scroll", re.IGNORECASE))
    expect(page.locator(".scroll-note")).to_be_visible()
    frame = page.locator(".scroll-frame:has(table.profile)")
    expect(frame).to_have_attribute("data-more-after", "")
    assert (shade(frame, "::before"), shade(frame, "::after")) == ("0", "1")

    expect(region).to_have_attribute("tabindex", "0")  # a Tab stop
    region.focus()  # where the arrow keys scroll it
    for _ in range(60):
        page.keyboard.press("ArrowRight")
    expect(frame).not_to_have_attribute("data-more-after", "")
    expect(frame).to_have_attribute("data-more-before", "")
    assert (shade(frame, "::before"), shade(frame, "::after")) == ("1", "0")
    expect(page.locator("table.profile th:text-is('top values')")).to_be_in_viewport()


def test_a_profile_that_fits_says_nothing_of_scrolling(
    web_stack: WebStack, new_page: NewPage, table: Path
) -> None:
    key = web_stack.new_key("desktop")
    job_id = finished_job(web_stack, key, table, JobParams())
    page = new_page(key, width=1600, height=900, at=f"/#/jobs/{job_id}")
    page.emulate_media(reduced_motion="reduce")
    expect(page.locator("table.profile tbody tr")).to_have_count(2)
    expect(page.locator(".scroll-note")).to_be_hidden()
    frame = page.locator(".scroll-frame:has(table.profile)")
    assert (shade(frame, "::before"), shade(frame, "::after")) == ("0", "0")


#: In the page: where a cell's content ends on the right.
CONTENT_RIGHT = """(cell) => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  return Math.round(range.getBoundingClientRect().right);
}"""


def right_edges(page: Any, table: str, name: str) -> set[int]:
    """Where the heading `name` of `table` and the figures under it end on the right."""
    heads = page.locator(f"table.{table} thead th").all_text_contents()
    column = heads.index(name) + 1
    cells = page.locator(f"table.{table} :is(thead th, tbody td):nth-child({column})").all()
    return {cell.evaluate(CONTENT_RIGHT) for cell in cells}


def test_a_number_columns_heading_stands_over_its_figures(
    web_stack: WebStack, new_page: NewPage, table: Path
) -> None:
    # On a phone, `amount_sum` sat at the left of a column whose figures were at its right.
    key = web_stack.new_key("headings")
    aggregate = finished_job(web_stack, key, table, AGGREGATE)
    page = new_page(key, width=390, height=844, at=f"/#/jobs/{aggregate}")
    expect(page.locator("table.aggregate tbody tr")).to_have_count(2)
    assert len(right_edges(page, "aggregate", "amount_sum")) == 1
    profile = finished_job(web_stack, key, table, JobParams())
    page.goto(f"{web_stack.url}/#/jobs/{profile}")
    expect(page.locator("table.profile tbody tr")).to_have_count(2)
    assert len(right_edges(page, "profile", "count")) == 1


def test_on_a_phone_a_columns_top_values_are_shown_whole(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # Cut at 260 px with an ellipsis: the rest was in a tooltip at best, and a phone has no
    # hover to show one.
    path = tmp_path / "notes.csv"
    long_values = ["a rather long description of the first item", "another long note, second"]
    path.write_text("note\n" + "\n".join(f'"{v}"' for v in long_values * 2) + "\n")
    key = web_stack.new_key("top-values")
    job_id = finished_job(web_stack, key, path, JobParams())
    page = new_page(key, width=390, height=844, at=f"/#/jobs/{job_id}")
    cell = page.locator("table.profile td.top")
    expect(cell).to_have_count(1)
    content, box = cell.evaluate("(el) => [el.scrollWidth, el.clientWidth]")
    assert content <= box
    for value in long_values:
        expect(cell).to_contain_text(value)


def rgba(css: str) -> tuple[float, ...]:
    """The first colour in `css` (as computed: "rgb(…)" or "rgba(…)"), alpha 1 if unsaid."""
    found = re.search(r"rgba?\(([^)]*)\)", css)
    assert found, css
    parts = [float(p) for p in found.group(1).split(",")]
    return tuple(parts) if len(parts) == 4 else (*parts, 1.0)


def luminance(red: float, green: float, blue: float) -> float:
    """WCAG's relative luminance of an sRGB colour (0-255 channels)."""
    r, g, b = (
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
        for c in (red / 255, green / 255, blue / 255)
    )
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def shade_contrast(page: Any) -> float:
    """How far the profile's right shade, at its darkest, stands out from the card under it
    (a WCAG contrast ratio: 1 is invisible)."""
    frame = page.locator(".scroll-frame:has(table.profile)")
    expect(frame).to_have_attribute("data-more-after", "")
    gradient = frame.evaluate("(el) => getComputedStyle(el, '::after').backgroundImage")
    card = frame.evaluate("(el) => getComputedStyle(el.closest('.card')).backgroundColor")
    *shade, alpha = rgba(gradient)
    under = rgba(card)[:3]
    over = [alpha * s + (1 - alpha) * u for s, u in zip(shade, under, strict=True)]
    lighter, darker = sorted([luminance(*under), luminance(*over)], reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_shade_of_a_wide_table_shows_in_either_theme(
    web_stack: WebStack, new_page: NewPage, table: Path, scheme: str
) -> None:
    # In the dark theme the shade was black at half strength on a near-black card: 1.1 : 1
    # against the light theme's 1.4 : 1, barely there.
    key = web_stack.new_key(f"shade-{scheme}")
    job_id = finished_job(web_stack, key, table, JobParams())
    page = new_page(key, width=390, height=844, at=f"/#/jobs/{job_id}")
    page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
    assert shade_contrast(page) >= 1.3
