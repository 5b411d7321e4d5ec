"""The CLI's tables keep ids whole at any terminal width, so they can be pasted into a command,
and hide no value in a narrow one."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rich.console import Console
from rich.table import Table

from jobcast.client_cli.market import ladder
from jobcast.client_cli.orders import order_record, order_table
from jobcast.client_cli.summary import (
    cancelled_line,
    human_bytes,
    job_record,
    job_table,
    result_tables,
)
from jobcast.console import PIPE_WIDTH
from jobcast.schemas import AggregateResult, Job, JobProgress, Order, ProfileResult
from jobcast.schemas.market import BookDepth

JOB_ID = "j_563f3062604ff3f3d256a1b2"
ORDER_ID = "o_4918a8679bc72124dd92"


def a_job() -> Job:
    return Job.model_validate(
        {
            "id": JOB_ID,
            "status": "succeeded",
            "operation": "profile",
            "filename": "a-rather-long-file-name-for-a-narrow-terminal.csv",
            "size": 123456,
            "created_at": 1.0,
            "started_at": 1.0,
            "finished_at": 2.0,
            "attempt": 1,
            "progress": None,
            "error": None,
            "params": {},
            "links": {
                "self": "/jobs/x",
                "result": "/jobs/x/result",
                "artifact": "/jobs/x/artifact",
            },
        }
    )


def an_order() -> Order:
    return Order.model_validate(
        {
            "id": ORDER_ID,
            "client_order_id": None,
            "symbol": "BTC-USD",
            "side": "buy",
            "type": "limit",
            "time_in_force": "GTC",
            "self_trade_prevention": "none",
            "price": "12345.678",
            "quantity": 5,
            "filled_quantity": 2,
            "remaining_quantity": 3,
            "average_price": "12345.678",
            "status": "partially_filled",
            "reason": None,
            "created_at": 1.0,
            "updated_at": 1.0,
        }
    )


def shown(table: Table, width: int) -> str:
    console = Console(width=width, record=True, force_terminal=False)
    console.print(table)
    return console.export_text()


def body_lines(text: str) -> list[str]:
    """The rows of a printed table (between its header rule and its bottom edge)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("┡"))
    end = next(i for i, line in enumerate(lines) if line.startswith("└"))
    return lines[start + 1 : end]


@pytest.mark.parametrize("width", [60, 80, 120])
def test_a_job_keeps_its_id_and_status_whole_on_one_line(width: int) -> None:
    # At 60 columns "succeeded" read "suc" "cee" "ded" and the file name went on for 17 lines.
    text = shown(job_table([a_job()], width), width)
    (row,) = body_lines(text)
    assert JOB_ID in row
    assert "│ succeeded │" in row
    assert "a-rather-l" in row
    assert max(len(line) for line in text.splitlines()) <= width


@pytest.mark.parametrize("width", [60, 80])
def test_a_narrow_terminal_says_which_columns_it_left_out(width: int) -> None:
    text = " ".join(shown(job_table([a_job()], width), width).split())
    assert "left out to fit:" in text
    assert "size" in text.split("left out")[1]
    assert "--json or a wider terminal shows them" in text


def test_a_wide_terminal_shows_every_column_and_cuts_a_long_file_name() -> None:
    text = shown(job_table([a_job()], 120), 120)
    for header in ("id", "status", "operation", "file", "size", "percent"):
        assert f" {header} " in text
    assert "left out" not in text
    assert "…" in body_lines(text)[0]  # the file name, the one free text, ends in "…"


def test_piped_every_value_is_whole() -> None:
    # No width to fit: a script reads every column and the file name whole.
    text = shown(job_table([a_job()], None), PIPE_WIDTH)
    assert "a-rather-long-file-name-for-a-narrow-terminal.csv" in text
    assert "120.6 KiB" in text
    assert "…" not in text


def test_a_file_name_is_shown_as_it_is_named() -> None:
    # Read as markup, "sales[eu].csv" was shown as "sales.csv".
    named = a_job().model_copy(update={"filename": "sales[eu].csv"})
    assert "sales[eu].csv" in shown(job_table([named], 120), 120)


@pytest.mark.parametrize("width", [60, 80, 120])
def test_an_order_keeps_its_id_numbers_and_status_whole(width: int) -> None:
    text = shown(order_table([an_order()], width), width)
    (row,) = body_lines(text)
    header = text.splitlines()[1]
    values = {
        "id": ORDER_ID,
        "symbol": "BTC-USD",
        "price": "12345.678",
        "status": "partially_filled",
    }
    for column in ("id", "symbol", "status"):
        assert f" {column} " in header, text  # the ones never left out
    for column, value in values.items():
        assert (f" {value} " in row) == (f" {column} " in header), text
    assert max(len(line) for line in text.splitlines()) <= width


def test_an_order_narrower_than_its_id_symbol_and_status_folds_them_whole() -> None:
    # At 40 columns the id, symbol and status were cropped without a mark: the id pasted into
    # `orders show` named no order.
    text = shown(order_table([an_order()], 40), 40)
    cells = [line.strip("│").split("│") for line in body_lines(text)]
    assert ["".join(row[i].strip() for row in cells) for i in range(3)] == [
        ORDER_ID,
        "BTC-USD",
        "partially_filled",
    ], text
    assert max(len(line) for line in text.splitlines()) <= 40


def fields_shown(text: str) -> dict[str, str]:
    """A record printed one field a line: each line's name and value."""
    return dict(re.split(r" {2,}", line.strip(), maxsplit=1) for line in text.splitlines())


@pytest.mark.parametrize("width", [60, 80])
def test_one_job_on_a_terminal_is_one_field_a_line_with_nothing_cut(width: int) -> None:
    # `jobs show` printed a one-row table: at 80 columns its file name was cut and its size and
    # percent left out, though one job has room for every field on its own line.
    text = shown(job_record(a_job(), width), width)
    assert fields_shown(text) == {
        "id": JOB_ID,
        "status": "succeeded",
        "operation": "profile",
        "file": "a-rather-long-file-name-for-a-narrow-terminal.csv",
        "size": "120.6 KiB",
    }  # no progress: no percent line
    assert max(len(line) for line in text.splitlines()) <= width


def test_one_order_on_a_terminal_is_one_field_a_line() -> None:
    text = shown(order_record(an_order(), 80), 80)
    assert fields_shown(text) == {
        "id": ORDER_ID,
        "symbol": "BTC-USD",
        "side": "buy",
        "type": "limit",
        "price": "12345.678",
        "qty": "5",
        "filled": "2",
        "avg price": "12345.678",
        "status": "partially_filled",
    }  # no reason: no reason line


def test_one_record_piped_is_the_table_a_script_reads() -> None:
    assert shown(job_record(a_job(), None), PIPE_WIDTH) == shown(
        job_table([a_job()], None), PIPE_WIDTH
    )
    assert shown(order_record(an_order(), None), PIPE_WIDTH) == shown(
        order_table([an_order()], None), PIPE_WIDTH
    )


def test_a_job_is_shown_with_no_title_line_above_it() -> None:
    # `jobcast jobs show` printed a stray "jobs" line above its one job; `orders show` has none.
    console = Console(width=120, record=True, force_terminal=False)
    console.print(job_table([a_job()], 120))
    assert console.export_text().startswith("┏")


def test_a_cancelled_job_says_how_far_it_got() -> None:
    # `jobcast jobs show` printed only "cancelled 91%".
    progress = JobProgress(
        phase="scan", bytes_done=9, bytes_total=10, rows=1_707_155, percent=90.0, eta_seconds=1
    )
    ran = a_job().model_copy(update={"status": "cancelled", "progress": progress})
    queued = a_job().model_copy(update={"status": "cancelled", "started_at": None})
    assert cancelled_line(ran) == "cancelled after 1,707,155 rows; a cancelled job keeps no result"
    assert cancelled_line(queued) == "cancelled before it started; it has no result"


def a_profile() -> ProfileResult:
    def column(name: str, kind: str, mean: object, least: object, most: object) -> dict[str, Any]:
        return {
            "name": name,
            "type": kind,
            "count": 1000,
            "nulls": 0,
            "distinct": 1000,
            "distinct_exact": True,
            "top": None,
            "top_exact": False,
            "freq": None,
            "mean": mean,
            "min": least,
            "max": most,
        }

    return ProfileResult.model_validate(
        {
            "operation": "profile",
            "format": "csv",
            "encoding": "utf-8",
            "bytes_read": 100,
            "rows": 1000,
            "duration_seconds": 0.1,
            "cpu_seconds": 0.1,
            "peak_rss_bytes": 1,
            "columns": 3,
            "profile": [
                column("customer_lifetime_value", "float", 3.488e-07, -1234567.25, 98765432.125),
                column("ts", "datetime", "2024-05-01T12:00:00", "2024-01-01", "2024-12-31"),
                column("city", "string", None, None, None),
            ],
        }
    )


def printed(tables: list[Table], width: int) -> str:
    console = Console(width=width, record=True, force_terminal=False)
    for table in tables:
        console.print(table)
    return console.export_text()


def test_a_profile_too_wide_for_the_terminal_keeps_its_numbers_whole() -> None:
    # At 80 columns the mean read "3.488e-" over "07" and the type "datetim" over "e".
    text = printed(result_tables(a_profile(), 80), 80)
    for whole in ("3.488e-07", "-1,234,567.25", "98,765,432.125", "datetime", "distinct", "max"):
        assert whole in text, text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_an_estimated_distinct_count_is_marked_as_one() -> None:
    # A 600,000-row column's sketched 588,219 was printed as if counted exactly.
    profile = a_profile()
    estimated = profile.profile[0].model_copy(update={"distinct": 588219, "distinct_exact": False})
    profile = profile.model_copy(update={"profile": [estimated, *profile.profile[1:]]})
    text = printed(result_tables(profile, 200), 200)
    assert "~588,219" in text, text
    assert "~1,000" not in text  # the exact ones stay bare


def test_a_profile_that_fits_is_one_table() -> None:
    tables = result_tables(a_profile(), 200)
    assert len(tables) == 2  # the summary line's table, then the profile
    assert [c.header for c in tables[1].columns][-3:] == ["mean", "min", "max"]


def test_an_empty_book_says_it_is_empty() -> None:
    # A header alone, with nothing under it, read as if the output had been cut off.
    empty_book = ladder(BookDepth(symbol="SOL-USD", bids=[], asks=[]))
    assert "no orders rest on either side" in printed([empty_book], 80)


def test_sizes_are_named_in_the_binary_units_they_are_counted_in() -> None:
    # Counted in 1024s and printed as GB: a 2 GiB cap read as "2.0 GB", 7% under its size.
    assert human_bytes(512) == "512 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(3 * 1024**2) == "3.0 MiB"
    assert human_bytes(2 * 1024**3) == "2.0 GiB"
    assert human_bytes(4096 * 1024**3) == "4096.0 GiB"


def test_a_column_named_in_brackets_keeps_its_name_as_a_header() -> None:
    # Read as markup, an aggregate's `[city]` column had an empty header.
    grouped = AggregateResult.model_validate(
        {
            "operation": "aggregate",
            "format": "csv",
            "encoding": "utf-8",
            "bytes_read": 100,
            "rows": 2,
            "duration_seconds": 0.1,
            "cpu_seconds": 0.1,
            "peak_rss_bytes": 1,
            "groups": 1,
            "truncated": False,
            "table": [{"[city]": "Oslo", "amount[eur]_sum": 12.5}],
        }
    )
    for width in (None, 80):
        text = printed(result_tables(grouped, width), 80)
        assert "[city]" in text, text
        assert "amount[eur]_sum" in text, text
