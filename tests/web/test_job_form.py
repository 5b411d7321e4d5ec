"""The new-job form in real headless Chromium: the columns it reads from a file that is not
UTF-8, the upload line when another file is picked, and leaving the page mid-upload."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, WebStack, aggregate_form
from tests.web.test_app import aggregated, write_table

pytestmark = pytest.mark.slow

#: A Western Windows export (Excel's "CSV"): not UTF-8, which the server reads as cp1252.
WESTERN_CSV = "catégorie,montant\nCafé,3\nThé,5\nCafé,4\n".encode("cp1252")


def test_a_cp1252_header_is_read_as_the_server_reads_it_and_the_form_says_so(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # The form decoded it as UTF-8: it offered `cat�gorie`, and the job failed unknown_column.
    page = new_page(web_stack.new_key("western"))
    export = tmp_path / "ventes.csv"
    export.write_bytes(WESTERN_CSV)
    aggregate_form(page, export)
    expect(page.locator("form.new-job tbody th")).to_have_text(["catégorie", "montant"])
    note = page.locator("form.new-job .assumed-encoding")
    expect(note).to_contain_text("not UTF-8")
    expect(note).to_contain_text("cp1252")
    note.locator("button").click()  # points at the encoding field
    expect(page.locator("details.reading")).to_have_attribute("open", "")
    expect(page.locator("input[name=encoding]")).to_be_focused()

    page.check("input[aria-label='group by catégorie']")
    page.check("input[aria-label='sum of montant']")
    page.click("form.new-job button[type=submit]")
    page.wait_for_selector(".job-detail .chip[data-status=succeeded]")
    rows = page.locator("table.aggregate tbody tr")
    expect(rows).to_have_count(2)  # the result is drawn after the chip says succeeded
    cells = {
        r.locator("td").nth(0).inner_text(): r.locator("td").nth(1).inner_text() for r in rows.all()
    }
    assert cells == {"Café": "7", "Thé": "5"}, cells


def test_an_encoding_set_in_the_form_wins_over_the_assumed_one(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    page = new_page(web_stack.new_key("cyrillic"))
    export = tmp_path / "ventes.csv"
    export.write_bytes(WESTERN_CSV)
    aggregate_form(page, export)
    expect(page.locator("form.new-job .assumed-encoding")).to_be_visible()
    page.click("details.reading summary")
    page.fill("input[name=encoding]", "cp1251")  # é is й there: the user's word is taken
    page.press("input[name=encoding]", "Tab")
    expect(page.locator("form.new-job tbody th").first).to_have_text("catйgorie")
    expect(page.locator("form.new-job .assumed-encoding")).to_have_count(0)


def test_picking_another_file_hides_the_last_uploads_bar(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # "34 B uploaded", full and green, stayed beside the next file's name.
    page = new_page(web_stack.new_key("picker"))
    page.set_input_files("#file", str(write_table(tmp_path / "first.csv", 3)))
    page.click("form.new-job button[type=submit]")
    upload = page.locator("form.new-job .bar-box")
    expect(upload).to_have_attribute("data-state", "done")
    expect(upload).to_be_visible()
    page.set_input_files("#file", str(write_table(tmp_path / "second.csv", 3)))
    expect(page.locator("form.new-job .drop strong")).to_have_text("second.csv")
    expect(upload).to_be_hidden()


def test_leaving_the_page_mid_upload_asks_first_and_not_after(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # A reload or a closed tab dropped the upload without a word.
    page = new_page(web_stack.new_key("leaver"))
    held: list[Any] = []

    def hold_upload(route: Any) -> None:
        if route.request.method == "POST":
            held.append(route)  # in flight until the test lets it through
        else:
            route.continue_()

    page.route("**/jobs", hold_upload)
    page.set_input_files("#file", str(write_table(tmp_path / "slow.csv", 3)))
    page.click("form.new-job button[type=submit]")
    expect(page.locator("form.new-job .bar-box")).to_have_attribute("data-state", "sending")
    dialogs: list[str] = []

    def stay(dialog: Any) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()  # "stay on the page"

    page.on("dialog", stay)
    page.evaluate("() => { setTimeout(() => location.reload()); }")
    deadline = time.monotonic() + 10
    while not dialogs:
        assert time.monotonic() < deadline, "no prompt before leaving mid-upload"
        page.wait_for_timeout(50)
    assert dialogs == ["beforeunload"]
    held[0].continue_()
    expect(page.locator("form.new-job .bar-box")).to_have_attribute("data-state", "done")
    page.reload()  # the upload is done: nothing to ask about
    page.wait_for_selector("#conn[data-state=live]")
    assert dialogs == ["beforeunload"]


def test_an_excel_sep_line_is_read_as_the_server_reads_it_and_not_offered_as_a_column(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # The form offered `sep=` as the only column: the aggregate could not be asked for.
    page = new_page(web_stack.new_key("excel"))
    export = tmp_path / "ventes.csv"
    export.write_bytes(b"sep=;\r\nkategorie;betrag\r\nKaffee;3,5\r\nTee;5\r\nKaffee;4\r\n")
    aggregate_form(page, export)
    expect(page.locator("form.new-job tbody th")).to_have_text(["kategorie", "betrag"])

    page.check("input[aria-label='group by kategorie']")
    page.check("input[aria-label='sum of betrag']")
    assert aggregated(page, 2) == {"Kaffee": "7.5", "Tee": "5"}


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("\ufeffname,amount\nTea,3\n".encode(), id="utf-8-bom"),
        pytest.param("café,amount\nThé,3\n".encode(), id="utf-8-accents"),
        pytest.param("\ufeffname,amount\nTea,3".encode(), id="no-final-newline"),
        # Excel for Mac and classic Mac end lines with a bare CR, which the server reads too.
        pytest.param(b"name,amount\rTea,3\r", id="bare-cr"),
    ],
)
def test_a_tiny_utf8_file_keeps_its_last_line_so_its_numbers_can_be_summed(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path, content: bytes
) -> None:
    # The form told a cut-off sample by its characters against the file's bytes: a BOM or an
    # accent made the whole file look cut, its one row was dropped, and no sum was offered.
    page = new_page(web_stack.new_key("tiny"))
    export = tmp_path / "tiny.csv"
    export.write_bytes(content)
    aggregate_form(page, export)
    expect(page.locator("form.new-job tbody th").last).to_have_text("amount")
    expect(page.locator("input[aria-label='sum of amount']")).to_be_enabled()


def test_a_line_cut_off_by_the_sample_is_not_read_as_a_value(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # The form reads the first 64 KiB: the line that slice ends in is cut (`-5` read as `-`),
    # and taken for a value it would make the amounts look like text.
    page = new_page(web_stack.new_key("cut"))
    sample = 64 * 1024
    head = b"note,amount\n" + b"x" * 5000 + b",-5\n"
    whole_rows = (sample - 6000 - len(head)) // len(head.splitlines()[1] + b"\n")
    before = head + (head.splitlines()[1] + b"\n") * whole_rows
    cut_row = b"y" * (sample - len(before) - len(b",-")) + b",-5\n"
    content = before + cut_row + b"z,-5\n"
    assert content[sample - 1 : sample + 1] == b"-5"  # the slice ends inside `-5`
    export = tmp_path / "wide.csv"
    export.write_bytes(content)
    aggregate_form(page, export)
    expect(page.locator("form.new-job tbody th").last).to_have_text("amount")
    expect(page.locator("input[aria-label='sum of amount']")).to_be_enabled()


def test_on_a_phone_the_aggregate_form_shows_long_column_names_whole(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # Cut at 96 px with an ellipsis, `customer_lifetime_value_eur` and `_usd` both read
    # "customer_li…": which to sum could not be told on a phone.
    page = new_page(web_stack.new_key("long-names"), width=390, height=844)
    names = ["customer_region_name", "customer_lifetime_value_eur", "customer_lifetime_value_usd"]
    export = tmp_path / "customers.csv"
    export.write_text(",".join(names) + "\nN,1,2\nS,3,4\n")
    aggregate_form(page, export)
    heads = page.locator("form.new-job tbody th")
    expect(heads).to_have_text(names)
    for head in heads.all():
        assert head.evaluate("(th) => th.scrollWidth <= th.clientWidth"), head.inner_text()
    scroller = page.locator("form.new-job .table-scroll")
    assert scroller.evaluate("(el) => el.scrollWidth <= el.clientWidth")  # the checkboxes too


#: In the page: the characters a cell's lines end with, but its last (where its text wraps).
LINE_ENDS = """(cell) => {
  const ends = [];
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  let last = null;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const top = range.getBoundingClientRect().top;
      if (last && top > last.top + 1) ends.push(last.char);
      last = { top, char: node.data[i] };
    }
  }
  return ends;
}"""


def test_on_a_phone_a_long_column_name_wraps_after_its_underscores(
    web_stack: WebStack, new_page: NewPage, tmp_path: Path
) -> None:
    # It broke anywhere: `customer_lifetime_value_eur` read "customer_lifeti / me_value_eur".
    page = new_page(web_stack.new_key("name-breaks"), width=390, height=844)
    names = ["customer_lifetime_value_eur", "customer_lifetime_value_usd"]
    export = tmp_path / "customers.csv"
    export.write_text(",".join(names) + "\n1,2\n3,4\n")
    aggregate_form(page, export)
    heads = page.locator("form.new-job tbody th")
    expect(heads).to_have_text(names)
    for head in heads.all():
        ends = head.evaluate(LINE_ENDS)
        assert ends, "the name fits on one line: nothing here tests where it wraps"
        assert set(ends) == {"_"}, (head.inner_text(), ends)
