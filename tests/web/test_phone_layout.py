"""The jobs page on a phone's screen (390 by 844), where there is no hover and a scroll area
inside the scrolling page traps the thumb; checked at a desktop's size too, which keeps its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import NewPage, WebStack

pytestmark = pytest.mark.slow

STACK_WORKERS = False  # queued jobs are enough to fill the list
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
#: In the page: the list's own scrolling, [its content's height, its box's height].
LIST_HEIGHTS = "(el) => [el.scrollHeight, el.clientHeight]"


def queued_jobs(stack: WebStack, key: str, path: Path, count: int) -> None:
    path.write_text("city,amount\nParis,10\n")
    with stack.rest(key) as rest:
        for _ in range(count):
            with path.open("rb") as f:
                assert rest.post("/jobs", files={"file": f}).status_code == 202


def listed(page: Any, count: int) -> Any:
    rows = page.locator(".job-list li[data-job-id]")
    rows.nth(count - 1).wait_for()
    return page.locator(".job-list")


def test_on_a_phone_the_job_list_scrolls_with_the_page_not_inside_it(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # A list of 520 px scrolling inside the page: a swipe on it moved the list, not the page,
    # and the result below could be reached only by swiping beside it.
    key = web_stack.new_key("phone-list")
    queued_jobs(web_stack, key, tmp_path / "a.csv", 14)
    content, box = listed(new_page(key, **PHONE), 14).evaluate(LIST_HEIGHTS)
    assert content == box

    # Beside the result on a desktop, the list keeps its own scrolling, the page short.
    content, box = listed(new_page(key, **DESKTOP), 14).evaluate(LIST_HEIGHTS)
    assert content > box


#: In the page: [the width of an input's placeholder in its font, the width it has for text].
PLACEHOLDER_ROOM = """(input) => {
  const probe = document.createElement("span");
  probe.style.cssText = "position: absolute; visibility: hidden; white-space: pre";
  probe.style.font = getComputedStyle(input).font;
  probe.textContent = input.placeholder;
  document.body.append(probe);
  const width = probe.getBoundingClientRect().width;
  probe.remove();
  const pad = getComputedStyle(input);
  return [width, input.clientWidth - parseFloat(pad.paddingLeft) - parseFloat(pad.paddingRight)];
}"""


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_reading_fields_show_their_whole_placeholder(
    web_stack: WebStack, new_page: NewPage, size: dict[str, int]
) -> None:
    # The Sheet field's hint ("the first; a name or 0-based index") ended "0-bas" on a phone.
    page = new_page(web_stack.new_key("placeholders"), **size)
    page.click("details.reading summary")
    for name in ("encoding", "sheet"):
        field = page.locator(f"details.reading input[name={name}]")
        needed, room = field.evaluate(PLACEHOLDER_ROOM)
        assert needed <= room, (name, needed, room)


#: In the page: the upload bar shown and moved from empty to 80%, a frame apart, then given the
#: time a transition of its fill would take.
MOVE_UPLOAD_BAR = """async () => {
  const bar = document.querySelector("#upload-bar");
  bar.closest(".bar-box").hidden = false;
  bar.value = 0;
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  bar.value = 80;
  await new Promise((done) => setTimeout(done, 400));
}"""


@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
def test_a_progress_bar_jumps_to_its_value_when_motion_is_reduced(
    web_stack: WebStack, new_page: NewPage, motion: str
) -> None:
    # Its fill slid to each new value whatever the reader's motion setting. Its fill is in the
    # bar's own shadow tree, out of reach of getAnimations: the DevTools protocol sees it.
    page = new_page(web_stack.new_key("motion"), **PHONE)
    page.emulate_media(reduced_motion=motion)
    devtools = page.context.new_cdp_session(page)
    slides: list[float] = []
    devtools.on(
        "Animation.animationStarted",
        lambda event: slides.append(event["animation"]["source"]["duration"]),
    )
    devtools.send("Animation.enable")
    page.evaluate(MOVE_UPLOAD_BAR)
    if motion == "reduce":
        assert not any(slides), slides
    else:
        assert any(slides), "the bar no longer slides for those who did not ask otherwise"
