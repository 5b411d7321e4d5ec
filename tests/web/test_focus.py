"""Keyboard use of the app in real headless Chromium: where focus is after signing in, and that
it stays on a control while live events redraw the page around it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import NewPage, WebStack
from tests.web.long_jobs import LONG_JOB_ROWS, attempt_copy, caught_running, still_mid_job
from tests.web.test_app import submit_file, write_table

pytestmark = pytest.mark.slow

#: What has focus: its data-action and job id, or its tag when it is none of the page's controls.
FOCUSED = """() => {
  const el = document.activeElement;
  return el.dataset.action ? `${el.dataset.action} ${el.dataset.jobId}` : el.tagName;
}"""


def focus_held(page: Any, seconds: float) -> list[str]:
    """Every distinct focus seen, polled for `seconds`."""
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        focused = page.evaluate(FOCUSED)
        if not seen or seen[-1] != focused:
            seen.append(focused)
        time.sleep(0.02)
    return seen


#: Finds and focuses `selector` in one evaluation: Playwright's `focus` finds the element, then
#: focuses it in another round trip, and a detail redrawn each frame (a progress event each
#: 10 ms here) detached it in between on every try for 30 s on a loaded machine.
FOCUS_NOW = """selector => {
  const element = document.querySelector(selector);
  if (!element) return false;
  element.focus();
  return document.activeElement === element;
}"""


def focus_now(page: Any, selector: str, running: Callable[[], bool]) -> bool:
    """Focuses `selector`, or says the job ended first (its cancel controls are then gone)."""
    deadline = time.monotonic() + 30
    while not page.evaluate(FOCUS_NOW, selector):
        if not running():
            return False
        assert time.monotonic() < deadline, f"{selector} never took focus"
        page.wait_for_timeout(10)
    return True


#: The controls of a running job, by their data-action; `{row}` is the job's row in the list.
JOB_CONTROLS = {
    "open": "{row} button.job-open",
    "cancel": "{row} button.ghost",
    "cancel-job": ".job-detail button.danger",
}


@dataclass
class FocusHold:
    """Focuses one control of a job and keeps every focus seen while progress redraws it."""

    page: Any
    stack: WebStack
    selector: str
    seen: list[str] = field(default_factory=list)

    def __call__(self, job_id: str) -> None:
        selector = self.selector.format(row=f".job-list li[data-job-id={job_id}]")
        running = partial(still_mid_job, self.stack, job_id)
        self.seen = focus_held(self.page, 0.35) if focus_now(self.page, selector, running) else []


@dataclass
class OneLongJob:
    """The job the focus tests act on: the same one while it has rows left, a new one after."""

    page: Any
    stack: WebStack
    table: Path
    jobs: list[str] = field(default_factory=list)

    def __call__(self, attempt: int) -> str:
        if not self.jobs or not still_mid_job(self.stack, self.jobs[-1]):
            self.jobs.append(submit_file(self.page, attempt_copy(self.table, len(self.jobs))))
        return self.jobs[-1]


def test_focus_stays_on_cancel_job_while_progress_redraws_and_enter_cancels(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # Each progress event rebuilt the detail and the list: focus fell to <body> within 0.3 s.
    page = new_page(web_stack.new_key("keyboarder"))
    job = OneLongJob(page, web_stack, write_table(tmp_path / "long.csv", 2 * LONG_JOB_ROWS))
    # Each control is held while the job runs, the worker paused between holds: a fast machine
    # ran a whole job within the three, and one that ended under a hold rightly took its cancel
    # controls, and focus, with it (a loaded run saw focus on the row's open button so). What a
    # hold saw counts only if the job still had rows to read after it, so ran throughout;
    # otherwise `caught_running` holds again on another job.
    for action, selector in JOB_CONTROLS.items():
        hold = FocusHold(page, web_stack, selector)
        with caught_running(web_stack, job, hold) as job_id:
            assert hold.seen == [f"{action} {job_id}"]
            if action == "cancel-job":
                page.keyboard.press("Enter")  # still focused: nothing redraws while paused
                page.wait_for_selector(".job-detail .chip[data-status=cancelling]")
    page.wait_for_selector(".job-detail .chip[data-status=cancelled]")


def test_enter_on_a_finished_jobs_row_keeps_focus_on_it(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    page = new_page(web_stack.new_key("opener"))
    first = submit_file(page, write_table(tmp_path / "sales.csv", 20))
    page.wait_for_selector(".job-detail .chip[data-status=succeeded]")
    submit_file(page, write_table(tmp_path / "other.csv", 20))
    page.focus(f".job-list li[data-job-id={first}] button.job-open")
    page.keyboard.press("Enter")
    page.wait_for_selector(".job-detail .card-head:has(h2:text-is('sales.csv'))")
    assert focus_held(page, 0.4) == [f"open {first}"]


def test_the_live_region_says_status_changes_not_each_progress_tick(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # The whole detail was aria-live and redrawn on every progress event: a reader heard each.
    page = new_page(web_stack.new_key("listener"))
    page.evaluate("""() => {
      window.spoken = [];
      const regions = '#page-jobs [aria-live], #page-jobs [role=status]';
      new MutationObserver(() => {
        for (const region of document.querySelectorAll(regions)) {
          const said = region.textContent;
          if (window.spoken.at(-1) !== said) window.spoken.push(said);
        }
      }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")
    submit_file(page, write_table(tmp_path / "ticks.csv", 300_000))
    page.wait_for_selector(".job-detail .chip[data-status=succeeded]")
    spoken = [s for s in page.evaluate("window.spoken") if s]
    assert not page.locator(".job-detail[aria-live]").count()
    assert all("%" not in s for s in spoken), spoken
    assert spoken[-1] == "ticks.csv: succeeded", spoken
    assert len(spoken) <= 4, spoken


def test_after_sign_in_focus_is_on_the_pages_heading(browser: Any, web_stack: WebStack) -> None:
    # Focus was left on <body>: a keyboard user started again from the top of the document.
    context = browser.new_context()
    page = context.new_page()
    page.goto(web_stack.url + "/")
    page.fill("#key", web_stack.new_key("focused"))
    page.press("#key", "Enter")
    page.wait_for_selector("#conn[data-state=live]")
    try:
        assert page.evaluate("document.activeElement.textContent") == "New job"
        assert page.evaluate("document.activeElement.closest('#page-jobs') !== null")
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("document.activeElement.tagName") != "BODY"
    finally:
        context.close()
