"""The processing bar of a running job in real headless Chromium: it moves only forward, whatever
order the page's REST reads and the WebSocket's progress events arrive in, and is shown not live
while the connection is down, when a running job can still be cancelled over HTTP."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, WebStack
from tests.web.long_jobs import (
    LONG_JOB_ROWS,
    Record,
    caught_running,
    is_running,
    paused_mid_job,
    read_percent,
    wait_record,
)
from tests.web.test_app import WATCH_BARS, write_table

pytestmark = pytest.mark.slow

#: The list the page reads on each (re)subscription of its user's channel.
JOB_LIST = "**/jobs?limit=100"
#: Resolves once the page has run what is queued and drawn twice: an answer just read is shown.
SETTLED = """() => new Promise((done) =>
  setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(done))))"""


@contextmanager
def paused_past(stack: WebStack, job_id: str, percent: float) -> Iterator[None]:
    """The files worker paused as soon as the job's record is past `percent`, and running again
    after the block, whatever it did."""
    wait_record(stack, job_id, lambda record: read_percent(record) > percent)
    assert paused_mid_job(stack, job_id), f"job {job_id} ended before a pause past {percent}"
    try:
        yield
    finally:
        stack.resume_files_worker()


def posting(stack: WebStack, key: str, name: str, data: bytes) -> Callable[[int], str]:
    """Submits `data` as a new job over REST, once per attempt."""

    def submit(attempt: int) -> str:
        with stack.rest(key) as rest:
            job_id: str = rest.post("/jobs", files={"file": (name, data)}).json()["id"]
        return job_id

    return submit


def shown_percent(page: Any) -> float:
    bar = page.locator(".job-detail .processing")
    return float(bar.get_attribute("data-percent")) if bar.count() else 0.0


def listed_percent(body: bytes, job_id: str) -> float:
    job = next(j for j in json.loads(body)["items"] if j["id"] == job_id)
    assert job["status"] == "running", job
    return float(job["progress"]["percent"])


def test_a_list_read_before_later_progress_does_not_set_the_processing_bar_back(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # Seen under load: the bar went 3.1, 12.4, 6.2 (a job list read at 6.2 % was answered after
    # the 12.4 % event). Here the list is read at once and its answer held until the bar passed it.
    key = web_stack.new_key("forward")
    page = new_page(key)
    held: list[tuple[Any, Any]] = []

    def hold_the_list(route: Any) -> None:
        if held:
            route.continue_()
            return
        held.append((route, route.fetch()))

    data = write_table(tmp_path / "forward.csv", LONG_JOB_ROWS).read_bytes()
    submit = posting(web_stack, key, "forward.csv", data)

    def started_reading(job_id: str) -> None:  # the answer held is then not at 0 %
        wait_record(web_stack, job_id, lambda record: read_percent(record) > 0)

    # The worker is held still while the page reads and whenever it must not end the job early:
    # only the steps the test lets it take move the bar, however fast or loaded the machine.
    with caught_running(web_stack, submit, started_reading) as job_id:
        page.route(JOB_LIST, hold_the_list)
        page.evaluate(f"location.hash = '#/jobs/{job_id}'")
        page.reload()  # its subscription, hence its list read, anew: now held
        page.wait_for_selector(".job-detail .processing")
        page.evaluate(WATCH_BARS)
        deadline = time.monotonic() + 30
        while not held:
            assert time.monotonic() < deadline, "the page never read its job list"
            page.wait_for_timeout(20)
    route, answer = held[0]
    read_at = listed_percent(answer.body(), job_id)
    # One more batch or so, the worker paused again as soon as its record is past `read_at`:
    # this test polls Redis while the worker runs, so the job (over 99 % still to read) cannot
    # end unseen as it could while the page was asked. The progress event went out with that
    # record, so the bar passes `read_at` with the worker paused.
    with paused_past(web_stack, job_id, read_at):
        while shown_percent(page) <= read_at:
            assert time.monotonic() < deadline, f"the bar never passed {read_at} %"
            page.wait_for_timeout(10)
        with page.expect_event("requestfinished", lambda r: r.url.endswith("/jobs?limit=100")):
            route.fulfill(response=answer)
        page.evaluate(SETTLED)
    page.wait_for_selector(".job-detail .chip[data-status=succeeded]", timeout=60_000)

    moving = [p for p in page.evaluate("window.bars")["processing"] if 0 < p < 100]
    assert moving == sorted(moving), (read_at, moving)


#: A job's own read, GET /jobs/{id}: what the page asks of a job it hears of but does not know.
JOB_READ = re.compile(r"/jobs/[\w-]+$")


class HeldFrames:
    """The page's WebSocket through a relay that, once `holding`, keeps the server's frames of
    jobs back until the test hands them on, one at a time, in their order."""

    def __init__(self) -> None:
        self.holding = False
        self.held: list[str] = []
        self.socket: Any = None

    def relay(self, socket: Any) -> None:
        self.socket = socket
        server = socket.connect_to_server()
        server.on_message(self.from_server)
        socket.on_message(server.send)

    def from_server(self, frame: str) -> None:
        if self.holding and '"job_id"' in frame:
            self.held.append(frame)
        else:
            self.socket.send(frame)

    def pass_on(self, count: int) -> None:
        for frame in self.held[:count]:
            self.socket.send(frame)
        del self.held[:count]


def waited(page: Any, done: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + 30
    while not done():
        assert time.monotonic() < deadline, what
        page.wait_for_timeout(10)


def test_a_job_read_from_before_its_progress_events_does_not_set_its_bar_back(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # Seen under load: a job sent by another client stayed at "0% · 0 rows" with its worker
    # paused, though its record had an ETA. Its job.started came while the page's read of it
    # (asked at job.queued) was out, so the page knew it as queued, attempt 0, and took the
    # progress events on that; the read asked at job.started, answered later, said running,
    # attempt 1, 0 %: a newer attempt to the page, so its older progress replaced the events'.
    key = web_stack.new_key("late-read")
    page = new_page(key)
    frames = HeldFrames()
    page.route_web_socket(lambda url: "/ws" in url, frames.relay)
    with page.expect_event("requestfinished", lambda r: r.url.endswith("/jobs?limit=100")):
        page.reload()  # its WebSocket anew, through the relay; its list read before the job
    reads: list[tuple[Any, Any]] = []  # the page's first two reads of the job, answers held

    def hold_two_reads(route: Any) -> None:
        if len(reads) == 2:
            route.continue_()
        else:
            reads.append((route, route.fetch()))

    page.route(JOB_READ, hold_two_reads)
    data = write_table(tmp_path / "late-read.csv", LONG_JOB_ROWS).read_bytes()
    web_stack.pause_files_worker()
    try:
        job_id = posting(web_stack, key, "late-read.csv", data)(0)
        waited(page, lambda: len(reads) == 1, "the page never read the job it heard of")
        frames.holding = True  # read 1 (queued) held: what comes of the job waits too
        web_stack.resume_files_worker()
        wait_record(web_stack, job_id, is_running)
        web_stack.pause_files_worker()
        waited(page, lambda: bool(frames.held), "no job.started came")
        frames.pass_on(1)  # job.started, while read 1 is out: read 2 is at the start
        waited(page, lambda: len(reads) == 2, "the page never read the job again")
        read_at = listed_percent_of(reads[1][1].json())
        web_stack.resume_files_worker()
        newest = wait_record(web_stack, job_id, lambda r: read_percent(r) > read_at and has_eta(r))
        assert paused_mid_job(web_stack, job_id), f"job {job_id} ended before the test paused it"
        for route, answer in reads[:1]:
            with page.expect_event("requestfinished", lambda r: JOB_READ.search(r.url)):
                route.fulfill(response=answer)
        page.evaluate(SETTLED)
        frames.pass_on(len(frames.held))  # its progress, up to `newest`
        page.evaluate(SETTLED)
        frames.holding = False
        route, answer = reads[1]
        with page.expect_event("requestfinished", lambda r: JOB_READ.search(r.url)):
            route.fulfill(response=answer)
        page.evaluate(f"location.hash = '#/jobs/{job_id}'")  # known now: opened as it stands
        shown = read_percent(newest)
        deadline = time.monotonic() + 10
        while abs(shown_percent(page) - shown) >= 0.05 and time.monotonic() < deadline:
            page.wait_for_timeout(10)
        assert abs(shown_percent(page) - shown) < 0.05, (read_at, shown_percent(page), shown)
        expect(page.locator(".job-detail .processing .bar-text")).to_contain_text("ETA")
    finally:
        web_stack.resume_files_worker()


def listed_percent_of(view: dict[str, Any]) -> float:
    assert view["status"] == "running", view
    return float(view["progress"]["percent"])


def has_eta(record: Record) -> bool:
    """The record carries an ETA: its first batches read and timed."""
    return json.loads(record.get("progress") or "{}").get("eta_seconds") is not None


def test_while_the_connection_is_down_a_running_job_is_shown_not_live(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # With the api stopped ("reconnecting…") the job kept its ETA, as if live: the estimate was
    # the last one heard.
    key = web_stack.new_key("offline")
    page = new_page(key)
    data = write_table(tmp_path / "offline.csv", LONG_JOB_ROWS).read_bytes()
    submit = posting(web_stack, key, "offline.csv", data)
    cancel = page.locator(".job-detail button:has-text('Cancel job')")
    bar = page.locator(".job-detail .processing .bar-text")

    def estimated(job_id: str) -> None:
        wait_record(web_stack, job_id, has_eta)

    with caught_running(web_stack, submit, estimated) as job_id:
        page.evaluate(f"location.hash = '#/jobs/{job_id}'")
        expect(bar).to_contain_text("ETA")
        web_stack.api.stop()
        try:
            expect(page.locator("#conn")).to_have_attribute("data-state", "reconnecting")
            expect(bar).not_to_contain_text("ETA")
            expect(bar).to_contain_text("last known")
        finally:
            web_stack.start_api()
        expect(page.locator("#conn")).to_have_attribute("data-state", "live")
        expect(bar).to_contain_text("ETA")
        expect(bar).not_to_contain_text("last known")
        cancel.click()
    page.wait_for_selector(".job-detail .chip[data-status=cancelled]", timeout=60_000)


def test_a_running_job_is_cancelled_over_http_while_the_websocket_is_down(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # Cancel was off whenever the WebSocket was not live ("connecting…" at first load too),
    # though cancelling is a plain HTTP call the api answers with the job, now cancelling.
    key = web_stack.new_key("socketless")
    page = new_page(key)
    cut: list[Any] = []  # holds True once the page's WebSockets are refused

    def relay(socket: Any) -> None:
        if cut:
            socket.close()
            return
        server = socket.connect_to_server()
        server.on_message(socket.send)
        socket.on_message(server.send)
        sockets.append(socket)

    sockets: list[Any] = []
    page.route_web_socket(lambda url: "/ws" in url, relay)
    page.reload()  # its WebSocket anew, through `relay`
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    data = write_table(tmp_path / "socketless.csv", LONG_JOB_ROWS).read_bytes()
    submit = posting(web_stack, key, "socketless.csv", data)
    cancel = page.locator(".job-detail button:has-text('Cancel job')")
    bar = page.locator(".job-detail .processing .bar-text")
    with caught_running(web_stack, submit) as job_id:
        row_cancel = page.locator(f".job-list li[data-job-id='{job_id}'] button:has-text('Cancel')")
        page.evaluate(f"location.hash = '#/jobs/{job_id}'")
        page.wait_for_selector(".job-detail .processing")
        cut.append(True)
        for socket in sockets:
            socket.close()
        expect(page.locator("#conn")).not_to_have_attribute("data-state", "live")
        expect(bar).to_contain_text("last known")
        expect(row_cancel).to_be_enabled()
        expect(cancel).to_be_enabled()
        expect(cancel).not_to_have_attribute("title", re.compile("."))
        with page.expect_response(lambda r: r.request.method == "DELETE") as answered:
            cancel.click()
        assert answered.value.ok, answered.value.text()
        expect(page.locator(".job-detail .chip")).to_have_attribute("data-status", "cancelling")
        expect(bar).to_contain_text("last known")  # still no live progress
        cut.clear()  # the WebSocket comes back, and with it the job's end
    expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=30_000)
    page.wait_for_selector(".job-detail .chip[data-status=cancelled]", timeout=60_000)
