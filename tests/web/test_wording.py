"""What the jobs and chat pages say: an error's message (not the code the API names it by), a
count with its noun in the singular for one, and a queued job as waiting, not stuck at 0 %."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, WebStack
from tests.web.test_app import submit_file, wait_status, write_table
from workers.files.state import JobState

pytestmark = pytest.mark.slow

#: In the page: how the app shows an error with `code` spans (dom.js `errorText`).
ERROR_SHOWN = """async (src) => {
  const { errorText, h } = await import(src);
  const err = { code: "invalid_params", message: "aggregate needs `group_by`" };
  const box = h("p", {}, errorText(err));
  return { text: box.textContent, code: box.querySelector("code")?.textContent };
}"""


def test_an_error_is_shown_by_its_message_with_code_spans_as_code(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # "empty_file: The uploaded file is empty." led with the code meant for programs.
    page = new_page(web_stack.new_key("worded"))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    page.set_input_files("#file", str(empty))
    page.click("form.new-job button[type=submit]")
    expect(page.locator("form.new-job .error")).to_have_text("The uploaded file is empty.")
    module = page.locator("script[type=module]").get_attribute("src").replace("main.js", "dom.js")
    shown = page.evaluate(ERROR_SHOWN, module)
    assert shown == {"text": "aggregate needs group_by", "code": "group_by"}


def test_an_aggregate_with_nothing_ticked_is_caught_before_uploading(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    page = new_page(web_stack.new_key("untidy"))
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    page.set_input_files("#file", str(write_table(tmp_path / "sales.csv", 10)))
    page.click("form.new-job label:has-text('aggregate')")
    page.click("form.new-job button[type=submit]")
    expect(page.locator("form.new-job .error")).to_have_text(
        "Tick a column to group by, a metric, or both, to aggregate."
    )
    assert posted == []
    assert page.locator(".bar-box").first.is_hidden()


def test_one_row_and_one_column_are_said_in_the_singular(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    page = new_page(web_stack.new_key("single"))
    one = tmp_path / "one.csv"
    one.write_text("a\n1\n")
    submit_file(page, one)
    expect(page.locator(".job-detail .summary")).to_contain_text("1 row · 1 column ·")


def test_a_queued_job_says_it_waits_for_a_worker(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # It said "started" with no time and "Processing 0%": a job not started read as stuck.
    page = new_page(web_stack.new_key("patient"))
    web_stack.pause_files_worker()
    try:
        job_id = submit_file(page, write_table(tmp_path / "later.csv", 10))
        wait_status(web_stack, job_id, "queued")
        detail = page.locator(".job-detail")
        expect(detail.locator(".chip")).to_have_attribute("data-status", "queued")
        expect(detail).to_contain_text("Waiting for a worker")
        assert "started \u2013" not in (detail.text_content() or "")  # "started" and no time
        assert detail.locator(".processing").count() == 0
    finally:
        web_stack.resume_files_worker()
    expect(page.locator(".job-detail .chip")).to_have_attribute("data-status", "succeeded")


def test_a_job_waiting_to_retry_shows_no_time_left(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # The bar kept the failed attempt's "ETA 42s" while the job waited for its next attempt,
    # which starts from the beginning. The job's commits are made as its worker makes them.
    page = new_page(web_stack.new_key("retried"))
    web_stack.pause_files_worker()
    try:
        job_id = submit_file(page, write_table(tmp_path / "flaky.csv", 10))
        wait_status(web_stack, job_id, "queued")
        loaded = JobState.load(web_stack.redis, job_id, ttl=600)
        assert loaded is not None
        state = loaded[0]
        assert state.start(1, size=100).committed
        progress = {"phase": "scan", "bytes_done": 40, "bytes_total": 100, "rows": 4}
        assert state.progress({**progress, "percent": 40.0, "eta_seconds": 42.0}).committed
        bar = page.locator(".job-detail .processing .bar-text")
        expect(bar).to_contain_text("ETA")
        error = {"code": "transient_error", "message": "The disk did not answer."}
        assert state.retrying(1, error, delay=30.0).committed
        expect(page.locator(".job-detail .chip")).to_have_attribute("data-status", "retrying")
        expect(bar).not_to_contain_text("ETA")
        page.reload()  # and as the REST view shows it
        expect(page.locator(".job-detail .chip")).to_have_attribute("data-status", "retrying")
        expect(page.locator(".job-detail .processing .bar-text")).to_contain_text("4 rows")
        expect(page.locator(".job-detail .processing .bar-text")).not_to_contain_text("ETA")
    finally:
        web_stack.resume_files_worker()
