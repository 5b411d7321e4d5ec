"""The browser app in real headless Chromium against a real stack: sign in, jobs (upload,
progress, result, cancel, an api restart mid-job), market, chat, monitor, and where requests go."""

from __future__ import annotations

import functools
import itertools
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FileChooser, expect

from jobcast.keys import create_key, revoke_key
from jobcast.rediskeys import MONITOR_LEASE_KEY, job_key, trades_key
from tests.web.conftest import (
    NewPage,
    Traffic,
    WebStack,
    aggregate_form,
    open_book,
    ticket_module,
)
from tests.web.long_jobs import LONG_JOB_ROWS, attempt_copy, caught_running
from tests.workers.files.support import READ_FORMATS

pytestmark = pytest.mark.slow

#: Records what the bars showed: every value of the upload bar and every processing percent.
WATCH_BARS = """() => {
  window.bars = {upload: [], processing: []};
  new MutationObserver(() => {
    const up = document.querySelector('#upload-bar');
    if (up && !up.closest('[hidden]')) {
      const v = Number(up.getAttribute('value'));
      if (window.bars.upload.at(-1) !== v) window.bars.upload.push(v);
    }
    for (const bar of document.querySelectorAll('.job-detail .processing')) {
      const p = Number(bar.dataset.percent);
      if (window.bars.processing.at(-1) !== p) window.bars.processing.push(p);
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


#: Rows after which `write_table`'s columns after the id repeat (city: 7, amount: 1000, flag: 3).
TABLE_PERIOD = 7 * 1000 * 3


@functools.lru_cache(maxsize=4)
def table_text(rows: int) -> str:
    """A table's text, built once per process for each size: six tests here and in the other
    web modules write the million-row one (0.3 s of CPU each to build, 20 MB to keep)."""
    # Each distinct tail of a row is formatted once and joined to the ids: half the CPU of
    # formatting every row, which a million-row file (~0.5 s) felt on a loaded 2-core run.
    tails = [
        f",city{i % 7},{(i * 37) % 1000 / 10},{'yes' if i % 3 else 'no'}\n"
        for i in range(min(rows, TABLE_PERIOD))
    ]
    rows_text = map(str.__add__, map(str, range(rows)), itertools.cycle(tails))
    return "id,city,amount,flag\n" + "".join(rows_text)


def write_table(path: Path, rows: int) -> Path:
    path.write_text(table_text(rows))
    return path


def aggregated(page: Any, groups: int) -> dict[str, str]:
    """Submit the form's aggregate job, wait for it to succeed, and read its `groups` rows as
    {group: first figure}."""
    page.click("form.new-job button[type=submit]")
    page.wait_for_selector(".job-detail .chip[data-status=succeeded]")
    rows = page.locator("table.aggregate tbody tr")
    expect(rows).to_have_count(groups)
    return {
        r.locator("td").nth(0).inner_text(): r.locator("td").nth(1).inner_text() for r in rows.all()
    }


def submit_file(page: Any, path: Path) -> str:
    page.set_input_files("#file", str(path))
    page.click("form.new-job button[type=submit]")
    # This file's job, not the one shown before it (a second submit found the first's chip and
    # returned before its upload was done: selecting its job then undid the test's next click).
    page.wait_for_selector(f".job-detail .card-head:has(h2:text-is('{path.name}')) .chip")
    job_id: str = page.locator(".job-list li.selected").get_attribute("data-job-id")
    return job_id


def wait_status(stack: WebStack, job_id: str, status: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while stack.redis.hget(job_key(job_id), "status") != status:
        assert time.monotonic() < deadline, f"job {job_id} never became {status}"
        time.sleep(0.005)


def test_sign_in_keeps_the_key_in_this_tab_and_sign_out_forgets_it(
    browser: Any, web_stack: WebStack, new_page: NewPage
) -> None:
    context = browser.new_context()
    page = context.new_page()
    answer = page.goto(web_stack.url + "/")
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy
    page.fill("#key", "jc_not-a-key")
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#signin-error:text('unknown or revoked')")
    context.close()

    key = web_stack.new_key("alice")
    page = new_page(key)
    assert page.evaluate("sessionStorage.getItem('jobcast.key')") == key
    assert page.text_content("#who") == "alice"
    page.click("#signout")
    page.wait_for_selector("#signin-form")
    assert page.evaluate("sessionStorage.getItem('jobcast.key')") is None


def test_a_key_of_only_spaces_is_told_to_paste_a_key(browser: Any, web_stack: WebStack) -> None:
    # `required` lets spaces through, and signing in with them did nothing at all.
    context = browser.new_context()
    page = context.new_page()
    page.goto(web_stack.url + "/")
    page.fill("#key", "   ")
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#signin-error:text('Paste your API key')", timeout=5_000)
    assert page.evaluate("sessionStorage.getItem('jobcast.key')") is None
    context.close()


def test_a_key_revoked_while_signed_in_returns_to_sign_in_saying_why(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # The page reloaded to an empty sign-in form: nothing said the key had stopped working.
    key, info = create_key(web_stack.redis, web_stack.settings.secret("key_secret"), "revokee")
    page = new_page(key)
    revoke_key(web_stack.redis, info.key_id)  # the api closes its WebSocket; the ticket is 401
    page.wait_for_selector("#signin-error:text('no longer accepts your key')")
    assert page.is_visible("#signin-form")
    assert page.evaluate("sessionStorage.getItem('jobcast.key')") is None
    page.reload()  # said once, not on every later visit
    page.wait_for_selector("#signin-form")
    assert page.text_content("#signin-error") == ""


def test_upload_shows_the_upload_bar_then_live_processing_then_the_profile(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    page = new_page(web_stack.new_key("uploader"))
    page.evaluate(WATCH_BARS)
    # Long enough to be seen moving: 200,000 rows (4 MB) were profiled in a few tens of ms on a
    # quiet run, and the page saw one value between 0 and 100.
    job_id = submit_file(page, write_table(tmp_path / "sales.csv", LONG_JOB_ROWS))
    page.wait_for_selector(".job-detail .chip[data-status=succeeded]", timeout=60_000)
    page.wait_for_selector("table.profile tbody tr >> nth=3")
    names = page.locator("table.profile tbody th").all_text_contents()
    assert names == ["id", "city", "amount", "flag"]
    assert page.locator(".histograms figure svg.histogram").count() == 2  # id, amount
    assert page.locator(".histograms svg.histogram rect").count() >= 20

    bars = page.evaluate("window.bars")
    assert bars["upload"][-1] == 100
    moving = [p for p in bars["processing"] if 0 < p < 100]
    assert len(moving) >= 2, bars["processing"]
    assert moving == sorted(moving)
    assert page.locator(f".job-list li[data-job-id={job_id}]").count() == 1


def test_on_a_phone_opening_a_job_scrolls_its_result_into_view(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    page = new_page(web_stack.new_key("phone"), width=390, height=844)
    first = submit_file(page, write_table(tmp_path / "a.csv", 100))
    page.wait_for_selector(".job-detail .chip[data-status=succeeded]", timeout=60_000)
    submit_file(page, write_table(tmp_path / "b.csv", 100))
    page.evaluate("window.scrollTo(0, 0)")
    # The form and the list fill the screen; the result starts in its lower half or below.
    top = page.evaluate("document.querySelector('.job-detail').getBoundingClientRect().top")
    assert top > 844 / 2

    page.click(f".job-list li[data-job-id={first}] button.job-open")

    # Polled from here: the page's CSP refuses the eval that wait_for_function needs.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        top = page.evaluate("document.querySelector('.job-detail').getBoundingClientRect().top")
        if 0 <= top < 844 / 2:
            break
        page.wait_for_timeout(100)
    assert 0 <= top < 844 / 2, top
    # Its result is fetched once the job is shown: awaited, not asked at once (a busy fresh-clone
    # run saw the scroll before the result arrived).
    expect(page.locator(f".job-detail .result[data-job-id={first}]")).to_be_visible()


def test_cancelling_a_running_job_ends_it_cancelled(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    page = new_page(web_stack.new_key("canceller"))
    big = write_table(tmp_path / "big.csv", LONG_JOB_ROWS)
    # Paused mid-job, so the cancel lands on a running job.
    with caught_running(web_stack, lambda n: submit_file(page, attempt_copy(big, n))) as job_id:
        page.click(".job-detail button.danger")
        page.wait_for_selector(".job-detail .chip[data-status=cancelling]")
    page.wait_for_selector(".job-detail .chip[data-status=cancelled]")
    chip = page.locator(f".job-list li[data-job-id={job_id}] .chip")
    assert chip.get_attribute("data-status") == "cancelled"
    # How far it got (job.cancelled carries the rows): the detail said nothing at all.
    note = page.text_content(".job-detail .cancelled-note") or ""
    done = re.fullmatch(r"Cancelled after ([\d,]+) rows; a cancelled job keeps no result\.", note)
    assert done, note
    assert int(done[1].replace(",", "")) < LONG_JOB_ROWS, note
    # The job shown is in the address: a reload shows it again, as the record tells it.
    assert page.evaluate("location.hash") == f"#/jobs/{job_id}"
    page.reload()
    page.wait_for_selector(".job-detail .chip[data-status=cancelled]")
    assert page.text_content(".job-detail .cancelled-note") == note


def test_an_answer_from_before_the_job_started_does_not_set_it_back(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # A job the page learns of from its job.queued event is read; that read, answered while the
    # job was queued but arriving after job.started, set it back to queued: once it finished it
    # showed no start time (1 tiny upload in 12 from the page itself, where the event can beat
    # the upload's answer). Here the job comes from another client, the read is held back.
    key = web_stack.new_key("late")
    page = new_page(key)
    held: list[tuple[Any, int, dict[str, str], bytes]] = []
    submitted: list[str] = []  # the jobs whose first read was held (an earlier try's, then ended)

    def hold_the_first_read(route: Any) -> None:
        job = route.request.url.rsplit("/", 1)[-1]
        if route.request.method != "GET" or held or job in submitted:
            route.continue_()
            return
        answer = route.fetch()  # queued: the files worker is paused
        held.append((route, answer.status, answer.headers, answer.body()))

    def submit(attempt: int) -> str:
        if held:  # read from an earlier try, whose job ended unseen: let it be read anew
            held.pop()[0].continue_()
        web_stack.pause_files_worker()
        try:
            with web_stack.rest(key) as rest:
                job_id: str = rest.post("/jobs", files={"file": ("late.csv", data)}).json()["id"]
            deadline = time.monotonic() + 30
            while not held:
                assert time.monotonic() < deadline, "the page never read the job"
                page.wait_for_timeout(50)
        finally:
            web_stack.resume_files_worker()
        submitted.append(job_id)
        return job_id

    page.route("**/jobs/j_*", hold_the_first_read)
    data = write_table(tmp_path / "late.csv", LONG_JOB_ROWS).read_bytes()
    # Answered once the page shows the job running, the job paused mid-way: the page can no
    # longer miss `running` (under load it went past unseen, before the page drew it).
    with caught_running(web_stack, submit) as job_id:
        row = f".job-list li[data-job-id={job_id}]"
        page.wait_for_selector(f"{row} .chip[data-status=running]")  # its job.started
        route, status, headers, body = held[0]
        route.fulfill(status=status, headers=headers, body=body)  # the read from before it started
    # Clicked once it has ended: each progress event redraws the list, and a click landing on a
    # row as it was replaced was lost (the detail never showed this job, 1 run in 8 under load).
    page.wait_for_selector(f"{row} .chip[data-status=succeeded]", timeout=60_000)
    page.click(row)
    page.wait_for_selector(".job-detail .chip[data-status=succeeded]")
    shown = page.locator(".job-detail p.muted").first
    expect(shown).to_contain_text(re.compile(r"started \d\d:\d\d:\d\d · took \d+(\.\d)? m?s$"))


def test_an_api_restart_mid_job_reconnects_and_the_job_finishes_in_one_row(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    key = web_stack.new_key("restarter")
    page = new_page(key)
    table = write_table(tmp_path / "restart.csv", LONG_JOB_ROWS)
    with caught_running(web_stack, lambda n: submit_file(page, attempt_copy(table, n))) as job_id:
        web_stack.api.stop()
        page.wait_for_selector("#conn[data-state=reconnecting]:text('reconnecting…')")
        web_stack.start_api()
    page.wait_for_selector("#conn[data-state=live]", timeout=30_000)
    page.wait_for_selector(".job-detail .chip[data-status=succeeded]", timeout=60_000)
    page.wait_for_selector("table.profile tbody tr")
    assert page.locator(f".job-list li[data-job-id={job_id}]").count() == 1
    with web_stack.rest(key) as rest:
        listed = [j["id"] for j in rest.get("/jobs").json()["items"]]
    shown = page.locator(".job-list li[data-job-id]").evaluate_all(
        "rows => rows.map(r => r.dataset.jobId)"
    )
    assert sorted(shown) == sorted(listed)


#: A price on the chart's y-axis ("2,000.05"), not a time on its x-axis ("12:03:59").
PRICE_LABEL = re.compile(r"[\d,]+(\.\d+)?")


def eth_order(client: Any, side: str, quantity: int, price: str) -> str:
    body = {"symbol": "ETH-USD", "side": side, "quantity": quantity, "price": price}
    answer = client.post("/orders", json=body)
    assert answer.status_code == 201, answer.text
    order_id: str = answer.json()["id"]
    return order_id


def wait_order(client: Any, order_id: str, field: str, value: Any) -> None:
    deadline = time.monotonic() + 30
    while client.get(f"/orders/{order_id}").json()[field] != value:
        assert time.monotonic() < deadline, f"order {order_id} never had {field} {value}"
        time.sleep(0.02)


def uncaught(page: Any) -> list[str]:
    """The page's uncaught errors from now on, for one test to check its own."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def fill_line(quantity: int, price: str, status: str) -> re.Pattern[str]:
    return re.compile(rf"buy {quantity} @ {re.escape(price)} {status} · \d\d:\d\d:\d\d")


def test_a_resting_order_shows_on_the_ladder_and_its_fill_on_the_tape(
    web_stack: WebStack, new_page: NewPage
) -> None:
    maker = web_stack.new_key("maker")
    page = new_page(maker)
    open_book(page, "ETH-USD")
    page.wait_for_timeout(500)  # the book read on subscribing is answered
    book_reads: list[str] = []
    page.on("request", lambda r: book_reads.append(r.url) if "/book" in r.url else None)
    page.click(".ticket label.sell")
    page.fill(".ticket input[name=quantity]", "5")
    page.fill(".ticket input[name=price]", "2000.03")  # off the 0.05 tick: caught in the page
    page.click(".ticket button[type=submit]")
    page.wait_for_selector("#err-price:text('tick')")
    page.fill(".ticket input[name=price]", "2000.05")
    page.click(".ticket button[type=submit]")
    order = page.wait_for_selector(".orders li[data-order-id]")
    order_id = order.get_attribute("data-order-id")
    page.wait_for_selector(".level.ask[data-price='2000.05']")

    with web_stack.rest(web_stack.new_key("taker")) as rest:
        body = {"symbol": "ETH-USD", "side": "buy", "quantity": 5, "price": "2000.05"}
        assert rest.post("/orders", json=body).status_code == 201
    # At the tick's decimals, as the tape: the average price's two more (2000.0500) are noise.
    # (A locator: the list is drawn again as trades and order events arrive.)
    fill = page.locator(f".fills li[data-order-id={order_id}]")
    expect(fill).to_contain_text("5 @ 2000.05 filled")
    page.wait_for_selector(".tape li:has-text('2000.05')")
    # The price axis is on round steps (1999, 2000, ...), not on the trades' range +/- 15 %.
    labels = page.locator(".price-chart text.tick").evaluate_all("ts => ts.map(t => t.textContent)")
    prices = [float(t.replace(",", "")) for t in labels if PRICE_LABEL.fullmatch(t)]
    steps = {round(b - a, 9) for a, b in itertools.pairwise(prices)}
    assert len(prices) == 5, labels
    assert len(steps) == 1, labels
    assert round(prices[0] / steps.pop(), 9).is_integer(), labels
    page.wait_for_selector(f".orders li[data-order-id={order_id}]", state="detached")
    page.wait_for_selector(".level.ask[data-price='2000.05']", state="detached")
    # Drawn from the market.book events, which carry the step's levels with its quote: a read
    # 200 ms later disagreed with the quote line a quarter of the time under the demo maker.
    assert book_reads == []

    # A page opened later lists the fill too: it was shown only to a page open when it happened.
    later = new_page(maker)
    later.click("nav a[data-page=market]")
    later.select_option("#symbol", "ETH-USD")
    past = later.locator(f".fills li[data-order-id={order_id}]")
    expect(past).to_contain_text("5 @ 2000.05 filled")


def test_the_price_chart_is_labelled_on_the_tick_and_ends_at_the_last_trade(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # For a 0.01 tick the axis read 9.99, 9.995, 10, 10.005, 10.01: prices no order can have, and
    # 10 for 10.00. Its right edge said "now" though it is the last trade, however long ago.
    page = new_page(web_stack.new_key("chartist"))
    page.click("nav a[data-page=market]")
    page.select_option("#symbol", "ACME")  # tick 0.01; no other test trades it
    page.wait_for_selector(".ladder .spread")
    with (
        web_stack.rest(web_stack.new_key("acme-seller")) as seller,
        web_stack.rest(web_stack.new_key("acme-buyer")) as buyer,
    ):
        for _ in range(2):
            order = {"symbol": "ACME", "quantity": 10, "price": "10.00"}
            assert seller.post("/orders", json={**order, "side": "sell"}).status_code == 201
            assert buyer.post("/orders", json={**order, "side": "buy"}).status_code == 201
    expect(page.locator(".tape li")).to_have_count(2)
    expect(page.locator(".price-chart path.line")).to_have_attribute("data-points", "2")
    labels = page.locator(".price-chart text.tick").all_text_contents()
    prices = [t for t in labels if PRICE_LABEL.fullmatch(t)]
    assert len(prices) == 5, labels
    assert all(re.fullmatch(r"\d+\.\d\d", t) for t in prices), labels
    cents = [round(float(t) * 100, 6) for t in prices]
    assert all(c.is_integer() for c in cents), labels
    assert len({b - a for a, b in itertools.pairwise(cents)}) == 1, labels
    last_trade_time = page.text_content(".tape li >> nth=0 >> span.muted")
    assert labels[-2:] == [last_trade_time, labels[-1]], labels  # right edge, then left edge
    assert "now" not in labels, labels


def test_an_order_rejected_or_cancelled_by_matching_is_said_on_the_page(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # It only left "My open orders" (or never showed there): nothing said why.
    page = new_page(web_stack.new_key("outcomes"))
    page.click("nav a[data-page=market]")
    page.select_option("#symbol", "SOL-USD")
    page.wait_for_selector(".ladder .spread")
    page.click(".ticket label.sell")
    page.select_option(".ticket select[name=type]", "market")
    page.fill(".ticket input[name=quantity]", "5")
    page.click(".ticket button[type=submit]")  # no bids on SOL-USD: nothing to sell to
    outcome = page.wait_for_selector(".ticket .outcome[data-reason=no_liquidity]")
    assert "Market sell 5 SOL-USD rejected" in outcome.inner_text(), outcome.inner_text()

    with web_stack.rest(web_stack.new_key("resting")) as rest:
        body = {"symbol": "SOL-USD", "side": "sell", "quantity": 3, "price": "150.00"}
        assert rest.post("/orders", json=body).status_code == 201
    page.wait_for_selector(".level.ask[data-price='150.00']")
    page.click(".ticket label.buy")
    page.select_option(".ticket select[name=type]", "limit")
    page.select_option(".ticket select[name=time_in_force]", "IOC")
    page.fill(".ticket input[name=price]", "150.00")
    page.click(".ticket button[type=submit]")
    outcome = page.wait_for_selector(".ticket .outcome[data-reason=ioc_remainder]")
    text = outcome.inner_text()
    assert "IOC buy 5 SOL-USD @ 150.00 3 filled; the other 2 cancelled" in text, text
    # Against one's own resting order, as chosen on the ticket (it could not be chosen there).
    page.click(".ticket label.sell")
    page.select_option(".ticket select[name=time_in_force]", "GTC")
    page.fill(".ticket input[name=quantity]", "2")
    page.fill(".ticket input[name=price]", "160.00")
    page.click(".ticket button[type=submit]")
    page.wait_for_selector(".level.ask[data-price='160.00']")
    page.click(".ticket label.buy")
    page.select_option(".ticket select[name=self_trade_prevention]", "cancel_newest")
    page.click(".ticket button[type=submit]")
    outcome = page.wait_for_selector(".ticket .outcome[data-reason=self_trade]")
    assert "an order of yours (self-trade prevention)" in outcome.inner_text()
    page.select_option("#symbol", "ETH-USD")  # SOL-USD's price means nothing there
    assert page.input_value(".ticket input[name=price]") == ""


def test_the_ticket_gives_a_limit_order_its_own_time_in_force_back_after_market(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # Market set IOC, and Limit again left it so: a limit order meant to rest was cancelled.
    page = new_page(web_stack.new_key("switcher"))
    page.click("nav a[data-page=market]")
    page.select_option("#symbol", "BTC-USD")  # no test trades it: an empty book and tape
    page.wait_for_selector(".ladder .spread")
    expect(page.locator(".tape li.empty")).to_have_text("No trades yet.")  # it was blank
    tif = ".ticket select[name=time_in_force]"
    page.select_option(".ticket select[name=type]", "market")
    assert (page.input_value(tif), page.is_disabled(tif)) == ("IOC", True)
    page.fill(".ticket input[name=quantity]", "1")
    page.click(".ticket button[type=submit]")  # nothing to buy from
    page.wait_for_selector(".ticket .outcome[data-reason=no_liquidity]")
    page.select_option(".ticket select[name=type]", "limit")
    assert (page.input_value(tif), page.is_enabled(tif)) == ("GTC", True)
    # The line about the BTC-USD order is not left under another symbol's ticket.
    page.select_option("#symbol", "ETH-USD")
    expect(page.locator(".ticket .outcome")).to_have_text("")
    assert page.locator(".ticket .outcome[data-reason]").count() == 0


def test_the_symbol_is_kept_in_the_address_for_a_reload_or_a_link(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # A reload (or a link passed on) opened the first symbol, whatever the trader was watching.
    page = new_page(web_stack.new_key("bookmarker"))
    errors = uncaught(page)
    page.click("nav a[data-page=market]")
    page.select_option("#symbol", "SOL-USD")
    expect(page).to_have_url(re.compile("#/market/SOL-USD$"))
    page.reload()
    expect(page.locator("#symbol")).to_have_value("SOL-USD")
    expect(page.locator(".market-head .rules")).to_contain_text("tick 0.01")
    page.evaluate("location.hash = '#/market/BTC-USD'")  # a link to another symbol
    expect(page.locator("#symbol")).to_have_value("BTC-USD")
    expect(page.locator(".market-head .rules")).to_contain_text("tick 0.5")
    # A symbol the market does not list opens the default (saying so: test_market_address.py).
    default = page.locator("#symbol option").first.get_attribute("value")
    page.evaluate("location.hash = '#/market/NOPE-USD'")
    page.reload()
    expect(page.locator("#symbol")).to_have_value(default)
    expect(page).to_have_url(re.compile(f"#/market/{default}$"))
    expect(page.locator(".ladder .spread")).to_be_visible()
    assert page.text_content(".ticket .error") == ""
    assert errors == []


def test_the_market_asks_for_its_symbols_again_when_the_first_answer_fails(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # A failed GET /market (offline at start, a 5xx) was thrown uncaught: an empty page for good.
    page = new_page(web_stack.new_key("market-retry"))
    errors = uncaught(page)
    refused: list[str] = []

    def refuse_once(route: Any) -> None:
        if refused:
            route.continue_()
            return
        refused.append(route.request.url)
        body = '{"error": {"code": "unavailable", "message": "Not now."}}'
        route.fulfill(status=503, content_type="application/json", body=body)

    page.route(re.compile(r"/market$"), refuse_once)  # the list, not /market/{symbol}
    page.reload()
    page.click("nav a[data-page=market]")
    expect(page.locator(".market-head .rules")).to_contain_text("trying again")
    expect(page.locator(".market-head .rules")).to_contain_text("tick", timeout=10_000)
    assert page.locator("#symbol option").count() > 0
    assert len(refused) == 1
    assert errors == []


def test_a_long_room_name_keeps_the_chat_within_a_phones_width(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # A 128-character room (the rule allows it) widened the page to ~1,000 px: Send off-screen.
    page = new_page(web_stack.new_key("long-room"), width=390, height=844)
    page.click("nav a[data-page=chat]")
    page.evaluate("location.hash = '#/chat/' + 'r'.repeat(128)")
    page.wait_for_selector(".chat-main h2:text-is('# " + "r" * 128 + "')")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    send = page.locator(".say button").bounding_box()
    assert send is not None
    assert send["x"] + send["width"] <= 390


def test_two_pages_in_one_room_see_each_others_messages_and_presence(
    web_stack: WebStack, new_page: NewPage
) -> None:
    ann = new_page(web_stack.new_key("ann"))
    bob = new_page(web_stack.new_key("bob"), width=390, height=844)
    for page in (ann, bob):
        page.click("nav a[data-page=chat]")
        page.wait_for_selector(".people li")
    ann.wait_for_selector(".people li:has-text('bob')")
    bob.wait_for_selector(".people li:has-text('ann')")
    bob.fill("#say", "hello from the phone")
    bob.press("#say", "Enter")
    ann.wait_for_selector(".chat-log li:has-text('hello from the phone')")
    ann.fill("#say", "hi bob")
    ann.click(".say button")
    bob.wait_for_selector(".chat-log li:has-text('hi bob')")
    assert ann.locator(".chat-log li:has-text('hello from the phone')").count() == 1


def test_a_message_over_the_servers_byte_limit_is_said_and_not_sent(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # The box counted 2,000 characters; the server takes 2,000 bytes of UTF-8: 1,001 "é" passed
    # the box and were refused after sending.
    page = new_page(web_stack.new_key("accented"))
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(str(frame))))
    page.evaluate("location.hash = '#/chat/bytes'")
    page.reload()  # its WebSocket opened again, now watched
    page.wait_for_selector(".chat-main h2:text-is('# bytes')")
    page.wait_for_selector("#conn[data-state=live]")
    page.fill("#say", "é" * 1000)  # 2,000 bytes: the most the server takes
    page.press("#say", "Enter")
    expect(page.locator(".chat-log .text")).to_have_text(["é" * 1000])
    page.fill("#say", "é" * 1001)
    page.press("#say", "Enter")
    expect(page.locator(".chat-main .error")).to_have_text(
        "Too long to send: 2,002 bytes, and a message may have 2,000 bytes of UTF-8: "
        "2,000 plain letters, fewer with accents (2 bytes each) or emoji (4)."
    )
    assert page.input_value("#say") == "é" * 1001  # kept, to be shortened
    assert sum("publish" in frame for frame in sent) == 1, sent


def test_a_reload_stays_in_the_room_and_a_room_link_joins_it(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # A reload went back to the lobby (and the jobs page to no job).
    page = new_page(web_stack.new_key("roomer"))
    page.click("nav a[data-page=chat]")
    page.wait_for_selector(".chat-main h2:text-is('# lobby')")
    page.fill("#room", "ops")
    page.click("form.row button[type=submit]")
    page.wait_for_selector(".chat-main h2:text-is('# ops')")
    page.fill("#say", "still here")
    page.press("#say", "Enter")
    page.wait_for_selector(".chat-log li:has-text('still here')")
    assert page.evaluate("location.hash") == "#/chat/ops"
    page.reload()
    page.wait_for_selector(".chat-main h2:text-is('# ops')")
    page.wait_for_selector(".chat-log li:has-text('still here')")
    page.evaluate("location.hash = '#/chat/night-shift'")  # a link to another room
    page.wait_for_selector(".chat-main h2:text-is('# night-shift')")
    assert page.input_value("#room") == "night-shift"
    page.evaluate("location.hash = '#/chat/bad room!'")  # it was ignored without a word
    page.wait_for_selector(".chat-main .error:has-text('No room \"bad room!\"')")
    # "letters" alone read as if an accented name such as café were one.
    page.evaluate("location.hash = '#/chat/' + encodeURIComponent('café')")
    page.wait_for_selector(".chat-main .error:has-text('ASCII letters (no accents)')")
    # A link to a job that is not the user's (or mistyped) says so; it showed "Pick a job".
    page.evaluate("location.hash = '#/jobs/j_000000000000000000000000'")
    missing = page.wait_for_selector(".job-detail .missing-job")
    assert "No job j_000000000000000000000000 of yours" in missing.inner_text()


def test_spaces_around_a_room_name_are_trimmed_not_refused(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # The box's pattern refused " ops-desk " although joining trimmed it.
    page = new_page(web_stack.new_key("spacer"))
    page.click("nav a[data-page=chat]")
    page.wait_for_selector(".chat-main h2:text-is('# lobby')")
    page.fill("#room", "  ops-desk ")
    page.press("#room", "Enter")
    expect(page.locator(".chat-main .card-head h2")).to_have_text("# ops-desk")
    assert page.input_value("#room") == "ops-desk"
    assert page.evaluate("location.hash") == "#/chat/ops-desk"
    page.fill("#room", "   ")  # nothing but spaces is still no name
    page.click(".card-head form button[type=submit]")
    assert page.eval_on_selector("#room", "el => el.validity.valueMissing")
    expect(page.locator(".chat-main .card-head h2")).to_have_text("# ops-desk")


#: In the page: a second live client (the app's own module) subscribes to a room name the
#: server refuses (too long); returns what its handler heard and whether it kept the channel.
REFUSED_SUBSCRIBE = """async (src) => {
  const { Live } = await import(src);
  const live = new Live();
  live.start();
  const answer = await new Promise((resolve) => {
    live.subscribe("chat." + "x".repeat(200), (m) => { if (m.kind === "error") resolve(m); });
  });
  const kept = live.subs.size;
  live.stop();
  return { code: answer.code, final: answer.final, kept };
}"""


def test_a_room_name_outside_the_rule_is_not_sent_and_a_refused_one_is_said(
    web_stack: WebStack, new_page: NewPage
) -> None:
    page = new_page(web_stack.new_key("cat"))
    page.click("nav a[data-page=chat]")
    page.wait_for_selector(".people li")
    page.fill("#room", "bad room!")
    page.click(".card-head form button[type=submit]")
    assert page.eval_on_selector("#room", "el => el.validity.patternMismatch")
    expect(page.locator(".chat-main .card-head h2")).to_have_text("# lobby")
    page.fill("#room", "r" * 100)  # the server takes up to 128: so does the form
    assert not page.eval_on_selector("#room", "el => el.validity.patternMismatch")

    module = page.locator("script[type=module]").get_attribute("src").replace("main.js", "live.js")
    refused = page.evaluate(REFUSED_SUBSCRIBE, module)

    assert refused == {"code": "bad_channel", "final": True, "kept": 0}


def test_the_monitor_charts_gain_points(web_stack: WebStack, new_page: NewPage) -> None:
    page = new_page(web_stack.new_key("operator"))
    page.click("nav a[data-page=monitor]")
    line = "[data-chart=workers] path.line"
    page.wait_for_selector(line, state="attached")  # a flat line has no height to be "visible"
    first = int(page.get_attribute(line, "data-points"))
    # (expect, not wait_for_function: the page's CSP forbids evaluating strings, rightly)
    expect(page.locator(line)).not_to_have_attribute("data-points", str(first), timeout=15_000)
    assert int(page.get_attribute(line, "data-points")) > first
    page.wait_for_selector("[data-chart=cpu] path.line", state="attached")  # once a host reported
    figures = page.locator(".figures .figure").all_inner_texts()
    assert len([f for f in figures if re.fullmatch(r"\d+ workers?", f)]) == 1, figures
    assert "1 host" in figures, figures  # one machine, said so (it was "1 hosts")
    # Tasks finished run along tasks started: the second line is dashed, the first shows through.
    lines = page.locator("[data-chart=tasks] path.line")
    expect(lines).to_have_count(2)
    dashes = [lines.nth(i).evaluate("e => getComputedStyle(e).strokeDasharray") for i in (0, 1)]
    assert dashes[0] == "none", dashes
    assert dashes[1] not in ("none", ""), dashes
    # Each legend key is a stretch of its line, dashed as the line is: it tells them apart.
    keys = page.locator("[data-chart=tasks] .legend .swatch line")
    expect(keys).to_have_count(2)
    assert [
        keys.nth(i).evaluate("e => getComputedStyle(e).strokeDasharray") for i in (0, 1)
    ] == dashes


#: A path's move commands: each starts a stretch of line.
MOVES = re.compile(r"M[^M]*")


def test_the_monitor_lines_break_where_samples_are_missing(
    web_stack: WebStack, new_page: NewPage
) -> None:
    page = new_page(web_stack.new_key("watcher"))
    page.click("nav a[data-page=monitor]")
    line = page.locator("[data-chart=ws] path.line")
    expect(line).to_have_attribute("data-points", re.compile(r"^([3-9]|\d\d+)$"), timeout=15_000)
    assert len(MOVES.findall(line.get_attribute("d") or "")) == 1  # samples a second: one line
    # No sample for some 4.5 s, past the 3 s (three steps) the page joins: another holds the
    # producer's lease (as when the stack is down), and none is made until it expires.
    web_stack.redis.set(MONITOR_LEASE_KEY, "api:elsewhere:1:outage", px=4_500)
    before = int(line.get_attribute("data-points") or 0)
    expect(line).to_have_attribute("data-points", str(before + 3), timeout=20_000)
    stretches = MOVES.findall(line.get_attribute("d") or "")
    # The line stops at the last sample before the outage and starts again after it.
    assert len(stretches) == 2, stretches
    assert stretches[1].count("L") >= 1, stretches


def test_aggregate_picks_columns_from_the_header_and_sorts_the_result(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    page = new_page(web_stack.new_key("analyst"))
    page.set_input_files("#file", str(write_table(tmp_path / "cities.csv", 2_000)))
    page.click("form.new-job label:has-text('aggregate')")
    page.check("input[aria-label='group by city']")
    page.check("input[aria-label='sum of amount']")
    assert page.is_disabled("input[aria-label='sum of city']")  # text: no sum or mean,
    assert page.is_enabled("input[aria-label='max of city']")  # but min and max, as the server
    page.click("form.new-job button[type=submit]")
    page.wait_for_selector(".job-detail .chip[data-status=succeeded]")
    rows = page.locator("table.aggregate tbody tr")
    expect(rows).to_have_count(7)
    header = page.locator("table.aggregate th:has(button:text-is('amount_sum'))")
    header.locator("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    # The arrow is drawn, not said: aria-sort says the order (a reader said "amount_sum ▲").
    expect(header.locator("button")).to_have_accessible_name("amount_sum")
    header.locator("button").press("Enter")  # the keyboard sorts too
    expect(header).to_have_attribute("aria-sort", "descending")
    sums = [float(t.replace(",", "")) for t in rows.locator("td:nth-child(2)").all_text_contents()]
    assert sums == sorted(sums, reverse=True)


def test_a_header_name_with_spaces_around_it_is_offered_and_sent_as_written(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # The form trimmed " b " to "b", a column the file does not have: the job failed.
    page = new_page(web_stack.new_key("spaced"))
    spaced = tmp_path / "spaced.csv"
    spaced.write_text("a, b ,c\nx,1,2\ny,2,3\nx,4,5\n")
    aggregate_form(page, spaced)
    page.check("input[aria-label='group by a']")
    page.check("input[aria-label='sum of  b ']")
    assert page.locator("form.new-job tbody th").all_text_contents()[:3] == [
        "a",
        '" b "',
        "c",
    ]
    page.click("form.new-job button[type=submit]")
    page.wait_for_selector(".job-detail .chip[data-status=succeeded]")
    expect(page.locator("table.aggregate tbody tr")).to_have_count(2)
    heads = page.locator("table.aggregate th button").all_text_contents()
    assert heads == ["a", '" b _sum"'], heads  # the result's name, its spaces shown


def profiled_cells(page: Any, path: Path, column: str) -> list[str]:
    """Submit `path` for a profile; the cells of `column`'s row in the result."""
    submit_file(page, path)
    page.wait_for_selector("table.profile tbody tr")
    return page.locator(
        f"table.profile tbody tr:has(th:text-is('{column}')) td"
    ).all_text_contents()


def aggregate_by(page: Any, path: Path, key: str, summed: str) -> None:
    """Submit `path` for an aggregate by `key` with the sum of `summed`; its table shown."""
    aggregate_form(page, path)
    page.check(f"input[aria-label='group by {key}']")
    page.check(f"input[aria-label='sum of {summed}']")
    page.click("form.new-job button[type=submit]")
    page.wait_for_selector("table.aggregate tbody tr")


def test_datetimes_read_alike_in_a_profile_and_an_aggregate(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # The profile showed 2024-05-01T12:00:00 (ISO 8601), the aggregate 2024-05-01 12:00:00.
    page = new_page(web_stack.new_key("dates"))
    stamps = tmp_path / "stamps.csv"
    stamps.write_text("when,n\n2024-05-01 12:00:00,1\n2024-05-02 08:30:00,2\n")
    cells = profiled_cells(page, stamps, "when")
    assert "2024-05-01 12:00:00" in cells, cells
    assert "2024-05-02 08:30:00" in cells, cells
    ticks = page.locator(".histograms svg text.tick").all_text_contents()  # its histogram too
    assert ticks[:2] == ["2024-05-01 12:00:00", "2024-05-02 08:30:00"], ticks  # then n's
    aggregate_by(page, stamps, "when", "n")
    grouped = page.locator("table.aggregate tbody td:first-child").all_text_contents()
    assert sorted(grouped) == ["2024-05-01 12:00:00", "2024-05-02 08:30:00"], grouped


def test_ids_past_2_to_the_53_keep_every_digit_in_a_profile_and_an_aggregate(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # JSON.parse made them JS numbers: 12345678901234567891 showed as 12,345,678,901,234,567,000.
    page = new_page(web_stack.new_key("ids"))
    ids = tmp_path / "ids.csv"
    ids.write_text("id,n\n12345678901234567890,1\n12345678901234567891,2\n9007199254740993,3\n")
    cells = profiled_cells(page, ids, "id")
    assert "12,345,678,901,234,567,891" in cells, cells  # max
    assert "9,007,199,254,740,993" in cells, cells  # min: 2^53 + 1
    aggregate_by(page, ids, "id", "n")
    header = page.locator("table.aggregate th:has(button:text-is('id'))")
    header.locator("button").click()  # sorts BigInts and numbers alike
    grouped = page.locator("table.aggregate tbody td:first-child").all_text_contents()
    assert grouped == [
        "9,007,199,254,740,993",
        "12,345,678,901,234,567,890",
        "12,345,678,901,234,567,891",
    ]


#: In the page: readHeader (header.js) of a File made of `bytes`, as the form calls it.
READ_HEADER = """async ([src, bytes]) => {
  const { readHeader } = await import(src);
  const got = await readHeader(new File([new Uint8Array(bytes)], "f"));
  return got && (got.unread ? { unread: got.unread } : { columns: got.columns });
}"""


def test_the_aggregate_form_says_why_it_cannot_offer_a_files_columns(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # An empty file was "gzip, Parquet or a spreadsheet"; random bytes or an old .xls offered
    # mojibake column names the job then failed on.
    page = new_page(web_stack.new_key("unread"))
    module = (
        page.locator("script[type=module]").get_attribute("src").replace("main.js", "header.js")
    )
    cases = [
        (b"", {"unread": "empty"}),
        (b"\n\n", {"unread": "empty"}),
        (
            bytes([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) + b"\x00" * 56,
            {"unread": "format"},
        ),
        (b"\x1f\x8b\x08\x00", {"unread": "format"}),
        (b"PAR1\x00\x00", {"unread": "format"}),
        (b"a,b\n\x00\x01\x02,\x03\n", {"unread": "binary"}),
        ("x,y\n1,2\n".encode("utf-16"), {"columns": ["x", "y"]}),  # with its BOM: read
    ]
    for data, expected in cases:
        got = page.evaluate(READ_HEADER, [module, list(data)])
        assert got == expected, (data[:12], got)
    page.click("form.new-job label:has-text('aggregate')")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    page.set_input_files("#file", str(empty))
    page.wait_for_selector("form.new-job .options p:has-text('This file is empty')")


def test_the_aggregate_form_reads_decimal_commas_and_json_lines_columns(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # Both were refused here though the server aggregates them: sum was off for a European
    # export's amounts, and JSON Lines said "cannot be read here".
    page = new_page(web_stack.new_key("europe"))
    page.click("form.new-job label:has-text('aggregate')")
    euro = tmp_path / "euro.csv"
    euro.write_text("city;amount;ok\nParis;51,18;true\nLyon;7,5;false\nNice;3;true\n")
    page.set_input_files("#file", str(euro))
    page.wait_for_selector("input[aria-label='group by city']")
    assert page.is_enabled("input[aria-label='sum of amount']")
    assert page.is_enabled("input[aria-label='mean of ok']")  # true/false values sum too
    lines = tmp_path / "events.jsonl"
    lines.write_text('{"kind": "a", "n": 1}\n{"kind": "b", "n": 2.5}\n')
    page.set_input_files("#file", str(lines))
    page.wait_for_selector("input[aria-label='group by kind']")
    page.check("input[aria-label='group by kind']")
    page.check("input[aria-label='sum of n']")
    assert page.is_disabled("input[aria-label='sum of kind']")
    page.click("form.new-job button[type=submit]")
    page.wait_for_selector(".job-detail .chip[data-status=succeeded]")
    expect(page.locator("table.aggregate tbody tr")).to_have_count(2)


def test_how_to_read_the_file_is_chosen_in_the_form_and_sent_with_the_job(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # No header line, decimal commas, cp1252 text, a comma per line as well as a semicolon: the
    # detection alone reads two columns split at the comma.
    key = web_stack.new_key("reader")
    page = new_page(key)
    export = tmp_path / "export.csv"
    export.write_bytes("Zürich;2,5\nLyon;1,5\nZürich;4,0\n".encode("cp1252"))
    page.set_input_files("#file", str(export))
    page.click("form.new-job label:has-text('aggregate')")
    page.click("details.reading summary")
    page.uncheck("input[name=header]")
    page.select_option("select[name=decimal]", ",")
    page.fill("input[name=encoding]", "cp1252")
    page.press("input[name=encoding]", "Tab")  # its change re-reads the columns
    page.wait_for_selector("input[aria-label='group by 0']")
    page.check("input[aria-label='group by 0']")
    page.check("input[aria-label='sum of 1']")
    page.fill("input[name=sheet]", "0")  # a CSV has no sheets: sent all the same, not used
    assert aggregated(page, 2) == {"Zürich": "6.5", "Lyon": "1.5"}
    # As the api takes them (strictly): a JSON boolean and the index as a JSON number.
    job_id = page.evaluate("location.hash").removeprefix("#/jobs/")
    with web_stack.rest(key) as rest:
        params = rest.get(f"/jobs/{job_id}").json()["params"]
    assert (params["header"], params["sheet"], params["decimal"]) == (False, 0, ",")


def test_a_converted_file_downloads_and_a_failed_job_shows_its_error(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    page = new_page(web_stack.new_key("converter"))
    page.set_input_files("#file", str(write_table(tmp_path / "small.csv", 50)))
    page.click("form.new-job label:has-text('convert')")
    page.select_option("select[name=to]", "csv")
    page.click("form.new-job button[type=submit]")
    page.wait_for_selector(".job-detail .chip[data-status=succeeded]")
    with page.expect_download() as download:
        page.click(".result button:has-text('Download csv')")
    saved = Path(download.value.path())
    assert saved.read_text().splitlines()[0].replace('"', "") == "id,city,amount,flag"
    assert download.value.suggested_filename == "small.csv"

    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3,4,5,6\n")
    page.click("form.new-job label:has-text('profile')")
    page.set_input_files("#file", str(ragged))
    page.click("form.new-job button[type=submit]")
    page.wait_for_selector(".job-detail .chip[data-status=failed]")
    assert "ragged_rows" in page.text_content(".job-detail .error-box")


def test_an_upload_the_api_refuses_is_shown_refused_not_uploaded(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # The bar stayed full ("8.9 MB uploaded" in all but words) beside the refusal.
    page = new_page(web_stack.new_key("refused"))
    page.set_input_files("#file", str(write_table(tmp_path / "small.csv", 50)))
    page.click("details.reading summary")
    page.fill("input[name=encoding]", "base64")  # not a text encoding: the api says 422
    page.click("form.new-job button[type=submit]")
    page.wait_for_selector(".bar-box[data-state=failed]")
    assert page.text_content(".bar-box .bar-text") == "refused: nothing stored"
    assert page.eval_on_selector("#upload-bar", "bar => bar.value") == 0
    assert "is not a text encoding" in (page.text_content("form.new-job") or "")


def test_the_drop_zone_names_every_format_and_its_picker_opens_from_the_keyboard(
    web_stack: WebStack, new_page: NewPage
) -> None:
    page = new_page(web_stack.new_key("keyboard"))
    drop_zone = page.text_content("label.drop") or ""
    assert [f for f in READ_FORMATS if f not in drop_zone] == [], drop_zone
    # Playwright intercepts choosers only once something listens; arming it after the key press
    # races the press (Chromium then opens an unintercepted chooser that blocks later ones), so
    # the listener is attached, and a round trip made, before the keyboard is touched.
    choosers: list[FileChooser] = []
    page.on("filechooser", lambda chooser: choosers.append(chooser))
    page.evaluate("1")
    page.focus("nav a[data-page=jobs]")
    for _ in range(10):  # Tab through the page until the file input has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "file":
            break
    assert page.evaluate("document.activeElement.id") == "file"
    page.keyboard.press("Enter")
    deadline = time.monotonic() + 5
    while not choosers and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert [chooser.element.get_attribute("id") for chooser in choosers] == ["file"]


def test_the_ticket_checks_the_symbols_rules_before_sending(
    web_stack: WebStack, new_page: NewPage
) -> None:
    page = new_page(web_stack.new_key("checker"))
    module = ticket_module(page)
    acme = {
        "tick_size": "0.01",
        "lot_size": 10,
        "min_quantity": 10,
        "max_quantity": 1000,
        "max_notional": "5000",
    }
    cases = [
        ({"quantity": "10", "price": "1.25"}, set()),
        ({"quantity": "15", "price": "1.25"}, {"quantity"}),  # not a lot multiple
        ({"quantity": "5", "price": "1.25"}, {"quantity"}),  # below the minimum
        ({"quantity": "1010", "price": "1.25"}, {"quantity"}),  # above the maximum
        ({"quantity": "1.5", "price": "1.25"}, {"quantity"}),
        ({"quantity": "1e1", "price": "1.25"}, {"quantity"}),  # Number() reads 10
        ({"quantity": "0x10", "price": "1.25"}, {"quantity"}),
        ({"quantity": "10", "price": "1.255"}, {"price"}),  # off the tick
        ({"quantity": "10", "price": "1.2500"}, set()),  # trailing zeros are on the tick
        ({"quantity": "10", "price": "0"}, {"price"}),
        ({"quantity": "10", "price": ""}, {"price"}),
        ({"quantity": "1000", "price": "5.01"}, {"price"}),  # over the max notional
        ({"quantity": "10", "price": "", "type": "market"}, set()),
    ]
    for order, wrong in cases:
        errors = page.evaluate(
            "async ([src, rules, order]) => (await import(src)).checkOrder(rules, order)",
            [module, acme, {"type": "limit", **order}],
        )
        assert set(errors) == wrong, (order, errors)


def test_the_market_line_of_a_symbols_rules_groups_every_figures_digits(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # Only the largest quantity was grouped: "lot 1000 · qty 2000" up to "5,000,000".
    page = new_page(web_stack.new_key("reader"))
    module = ticket_module(page)
    rules = {"tick_size": "1000", "lot_size": 1000, "min_quantity": 2000, "max_quantity": 5000000}
    line = page.evaluate(
        "async ([src, rules]) => (await import(src)).rulesLine(rules)", [module, rules]
    )
    assert line == "tick 1,000 · lot 1,000 · qty 2,000\u20135,000,000"  # an en dash


def test_the_ticket_says_whether_a_figure_is_not_a_number_or_not_above_0(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # "abc" and "1e2" were told to enter a price above 0, as "0" and "-5" were.
    page = new_page(web_stack.new_key("typist"))
    module = ticket_module(page)
    rules = {"tick_size": "0.01", "lot_size": 1, "min_quantity": 1, "max_quantity": 1000}
    not_a_number = "Enter a number: digits with an optional decimal point."
    not_whole = "Enter a whole number: digits only."
    cases = [
        ({"price": "abc"}, "price", not_a_number),
        ({"price": "1e2"}, "price", not_a_number),
        ({"price": "-1e2"}, "price", not_a_number),
        ({"price": "0"}, "price", "Enter a price above 0."),
        ({"price": "0.00"}, "price", "Enter a price above 0."),
        ({"price": "-5"}, "price", "Enter a price above 0."),
        ({"quantity": "abc"}, "quantity", not_whole),
        ({"quantity": "1e1"}, "quantity", not_whole),
        ({"quantity": "1.5"}, "quantity", not_whole),
        ({"quantity": ""}, "quantity", "An order needs a quantity."),
        ({"quantity": "0"}, "quantity", "Enter a quantity above 0."),
        ({"quantity": "-3"}, "quantity", "Enter a quantity above 0."),
    ]
    for change, name, message in cases:
        order = {"type": "limit", "quantity": "10", "price": "1.25", **change}
        errors = page.evaluate(
            "async ([src, rules, order]) => (await import(src)).checkOrder(rules, order)",
            [module, rules, order],
        )
        assert errors == {name: message}, (change, errors)
    # As the form shows it, beside the field.
    page.click("nav a[data-page=market]")
    page.wait_for_selector(".ladder .spread")
    page.fill(".ticket input[name=quantity]", "1")
    page.fill(".ticket input[name=price]", "abc")
    page.click(".ticket button[type=submit]")
    expect(page.locator("#err-price")).to_have_text(not_a_number)


def test_no_request_left_the_api_origin_no_key_was_in_a_url_and_no_script_failed(
    web_stack: WebStack, traffic: Traffic
) -> None:
    assert traffic.urls, "the tests above made requests"
    assert traffic.errors == []  # no script error, nothing the CSP had to block
    origin, ws_origin = web_stack.url, web_stack.url.replace("http://", "ws://")
    for url in traffic.urls:
        assert url.startswith((origin + "/", ws_origin + "/")), url
    assert web_stack.keys, "keys were used"
    for url in traffic.urls:
        assert not any(key in url for key in web_stack.keys), url
    sockets = [u for u in traffic.urls if u.startswith(ws_origin)]
    assert sockets
    assert all("?ticket=wst_" in u for u in sockets)


def test_try_it_out_on_post_jobs_in_docs_runs_a_job_as_filled_in(
    browser: Any, web_stack: WebStack, tmp_path: Path
) -> None:
    # Swagger UI fills a form field from its schema unless it has an example: the params used
    # to come with a random `encoding` and `"sheet": "string"`, and every such job failed.
    key = web_stack.new_key("docs-reader")
    with browser.new_context() as context:  # closed: the browser may serve the next module
        page = context.new_page()
        page.goto(web_stack.url + "/docs")
        page.click("button.authorize")
        page.locator(".auth-container input").first.fill(key)
        page.locator(".auth-container button.authorize").first.click()
        page.click("button.btn-done")
        operation = "#operations-jobs-submit_job_jobs_post"
        page.click(f"{operation} .opblock-summary-control")
        page.set_input_files(
            f"{operation} input[type=file]", str(write_table(tmp_path / "t.csv", 5))
        )
        page.click(f"{operation} button.execute")
        page.wait_for_selector(f"{operation} .live-responses-table tbody .response-col_status")
        status = page.text_content(f"{operation} .live-responses-table tbody .response-col_status")
        body = page.text_content(f"{operation} .live-responses-table .microlight")
        assert (status or "").strip() == "202", body
        job_id = json.loads(body or "{}")["id"]
    wait_status(web_stack, job_id, "succeeded")


def test_a_fill_listed_after_a_reload_is_not_dated_by_a_later_cancel(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # Read back from the orders list, it showed the order's last update and status: "buy 2 @
    # 1000.00 cancelled · <the cancel's time>", as if the fill had been a cancel.
    maker = web_stack.new_key("fill-then-cancel")
    with web_stack.rest(maker) as rest, web_stack.rest(web_stack.new_key("seller")) as seller:
        bid = {"symbol": "ETH-USD", "side": "buy", "quantity": 5, "price": "1000.00"}
        order_id = rest.post("/orders", json=bid).json()["id"]
        ask = {"symbol": "ETH-USD", "side": "sell", "quantity": 2, "price": "1000.00"}
        assert seller.post("/orders", json=ask).status_code == 201
        deadline = time.monotonic() + 30
        while rest.get(f"/orders/{order_id}").json()["filled_quantity"] < 2:
            assert time.monotonic() < deadline, "the bid never traded"
            time.sleep(0.02)
        assert rest.delete(f"/orders/{order_id}").status_code == 202
        while rest.get(f"/orders/{order_id}").json()["status"] != "cancelled":
            assert time.monotonic() < deadline, "the cancel was never applied"
            time.sleep(0.02)
    page = new_page(maker)
    page.click("nav a[data-page=market]")
    page.select_option("#symbol", "ETH-USD")
    # One line per trade: the fill's own status and time.
    line = page.locator(f".fills li[data-order-id={order_id}]")
    expect(line).to_have_text(fill_line(2, "1000.00", "partially filled"))


def test_my_fills_after_a_reload_are_the_lines_shown_live_one_per_trade(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # After a reload each order was one line at its average price ("3 of 4 filled · order
    # cancelled"), and live an order sweeping two levels was one line at their average: each
    # trade of one's orders is now a line at its own price and time, live and after a reload.
    trader = web_stack.new_key("fills-trader")
    page = new_page(trader)
    open_book(page, "ETH-USD")
    with web_stack.rest(trader) as me, web_stack.rest(web_stack.new_key("fills-other")) as other:
        eth_order(other, "sell", 2, "3000.00")
        eth_order(other, "sell", 3, "3000.05")
        eth_order(me, "buy", 5, "3000.05")  # sweeps both asks in one step
        bid = eth_order(me, "buy", 4, "2990.00")
        eth_order(other, "sell", 1, "2990.00")
        eth_order(other, "sell", 2, "2990.00")
        wait_order(me, bid, "filled_quantity", 3)
        assert me.delete(f"/orders/{bid}").status_code == 202
        wait_order(me, bid, "status", "cancelled")
    fills = page.locator(".fills li")
    expect(fills).to_have_text(
        [
            fill_line(2, "2990.00", "partially filled"),
            fill_line(1, "2990.00", "partially filled"),
            fill_line(3, "3000.05", "filled"),
            fill_line(2, "3000.00", "partially filled"),
        ]
    )
    live = fills.all_text_contents()
    page.reload()
    expect(fills).to_have_text(live)

    # Trades the api no longer keeps: the sweep's first is gone, so its order is one line again.
    web_stack.redis.ltrim(trades_key("ETH-USD"), 0, 2)
    page.reload()
    expect(fills).to_have_text(
        [
            fill_line(2, "2990.00", "partially filled"),
            fill_line(1, "2990.00", "partially filled"),
            fill_line(5, "3000.03", "filled"),
        ]
    )


def box(page: Any, selector: str) -> dict[str, float]:
    found: dict[str, float] | None = page.locator(selector).bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


def test_on_a_phone_the_ticket_follows_the_book_and_an_error_leaves_its_neighbour_alone(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # On a phone the ticket came after the book, the chart and the tape; and at any width an
    # error under Quantity stretched the Price box beside it to the row's new height.
    page = new_page(web_stack.new_key("pocket-trader"), width=390, height=844)
    page.click("nav a[data-page=market]")
    page.wait_for_selector(".ladder .spread")
    book, ticket = box(page, ".card:has(> .ladder)"), box(page, ".card:has(> .ticket)")
    chart, tape = box(page, ".card:has(> .price-chart)"), box(page, ".card:has(> .tape)")
    assert book["y"] + book["height"] < ticket["y"] < min(chart["y"], tape["y"])
    page.fill(".ticket input[name=quantity]", "abc")
    page.fill(".ticket input[name=price]", "1.00")
    page.click(".ticket button[type=submit]")
    expect(page.locator("#err-quantity")).to_have_text("Enter a whole number: digits only.")
    quantity = box(page, ".ticket input[name=quantity]")
    price = box(page, ".ticket input[name=price]")
    assert (price["y"], price["height"]) == (quantity["y"], quantity["height"])


def test_on_a_phone_the_signed_in_name_is_shown_cut_short_within_the_width(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # At 390 px the name was display:none: a phone user could not see which key was in use.
    name = "a-principal-with-a-name-longer-than-a-phone-has-room-for"
    page = new_page(web_stack.new_key(name), width=390, height=844)
    who = page.locator("#who")
    expect(who).to_have_text(name)
    expect(who).to_be_visible()
    shown = box(page, "#who")
    assert 0 <= shown["x"] <= shown["x"] + shown["width"] <= 390
    assert who.evaluate("el => el.scrollWidth > el.clientWidth")  # cut short, with an ellipsis
    assert box(page, "#signout")["y"] < box(page, "nav")["y"]  # the first line kept whole
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_on_a_phone_a_chat_messages_text_has_a_line_of_its_own(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # Name, text and time shared one row: the text had a third of a phone's width.
    page = new_page(web_stack.new_key("thumbs"), width=390, height=844)
    page.click("nav a[data-page=chat]")
    page.evaluate("location.hash = '#/chat/phone-lines'")
    page.wait_for_selector(".chat-main h2:text-is('# phone-lines')")
    page.fill("#say", "a message long enough to want every bit of a phone's narrow width")
    page.press("#say", "Enter")
    message = ".chat-log li:has(.text)"
    page.wait_for_selector(message)
    line, name = box(page, message), box(page, f"{message} .from")
    text = box(page, f"{message} .text")
    assert text["y"] >= name["y"] + name["height"]  # under the name
    assert text["width"] >= line["width"] - 24  # the row's width, less its padding


def test_signing_in_logs_no_errors_and_a_refused_key_is_one_request_said_on_the_form(
    browser: Any, web_stack: WebStack
) -> None:
    # A key kept in the tab but revoked meanwhile started every page at a reload: each asked
    # with it and was refused, and the market's list of symbols threw "The API key is unknown
    # or revoked." uncaught, before the page went back to the sign-in form.
    context = browser.new_context()
    page = context.new_page()
    logged: list[str] = []
    page.on("console", lambda m: logged.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: logged.append(f"uncaught {error}"))
    refused: list[str] = []
    page.on("response", lambda r: refused.append(r.url) if r.status == 401 else None)
    # Chromium logs a refused answer itself, whatever the page does with it: a wrong key is
    # checked with one request, and that line is all the console shows of it.
    browsers_own = (
        "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    )
    address = web_stack.url + "/#/market/ETH-USD"

    page.goto(address)
    page.fill("#key", "jc_not-a-key")
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#signin-error")).to_have_text("That key is unknown or revoked.")
    assert (len(refused), logged) == (1, [browsers_own]), (refused, logged)

    refused.clear()
    logged.clear()
    key, info = create_key(web_stack.redis, web_stack.settings.secret("key_secret"), "console")
    page.fill("#key", key)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#conn[data-state=live]")
    page.wait_for_selector(".ladder .spread")
    page.reload()  # signed in again with the kept key
    page.wait_for_selector("#conn[data-state=live]")
    page.wait_for_selector(".ladder .spread")
    assert (refused, logged) == ([], [])

    page.goto("about:blank")  # away while the key is revoked: the tab keeps it
    revoke_key(web_stack.redis, info.key_id)
    page.goto(address)
    expect(page.locator("#signin-error")).to_contain_text("no longer accepts your key")
    page.wait_for_timeout(500)  # anything else that was to ask has asked
    assert (len(refused), logged) == (1, [browsers_own]), (refused, logged)
    assert page.evaluate("sessionStorage.getItem('jobcast.key')") is None
    context.close()


def test_a_long_paste_stays_whole_in_the_message_box_and_is_said_too_long(
    web_stack: WebStack, new_page: NewPage
) -> None:
    # The box's maxLength (2,000 characters) cut a longer paste to its first 2,000, silently:
    # Send then sent a message the writer had not written.
    page = new_page(web_stack.new_key("paster"))
    page.click("nav a[data-page=chat]")
    page.evaluate("location.hash = '#/chat/pasted'")
    page.wait_for_selector(".chat-main h2:text-is('# pasted')")
    page.focus("#say")
    page.keyboard.insert_text("a" * 2500)  # as a paste arrives
    expect(page.locator("#say")).to_have_value("a" * 2500)
    page.press("#say", "Enter")
    expect(page.locator(".chat-main .error")).to_contain_text("Too long to send: 2,500 bytes")
    expect(page.locator("#say")).to_have_value("a" * 2500)  # kept, to be shortened
    expect(page.locator(".chat-log .text")).to_have_count(0)
