"""The CLI's tables keep ids whole at any terminal width, so they can be pasted into a command,
and hide no value in a narrow one."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from jobcast.client_cli.market import ladder
from jobcast.client_cli.orders import order_table
from jobcast.client_cli.summary import cancelled_line, human_bytes, job_table, result_tables
from jobcast.schemas import Job, JobProgress, Order, ProfileResult
from jobcast.schemas.market import BookDepth

JOB_ID = "j_563f3062604ff3f3d256a1b2"


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


def test_a_job_id_is_never_cut_in_a_narrow_terminal() -> None:
    job = a_job()
    console = Console(width=60, record=True, force_terminal=False)
    console.print(job_table([job]))
    assert JOB_ID in console.export_text()


def test_a_narrow_terminal_folds_a_value_rather_than_cut_it() -> None:
    order = Order.model_validate(
        {
            "id": "o_4918a8679bc72124dd92",
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
    console = Console(width=80, record=True, force_terminal=False)
    console.print(order_table([order]))
    text = console.export_text()
    assert "…" not in text
    assert "o_4918a8679bc72124dd92" in text


def test_a_job_is_shown_with_no_title_line_above_it() -> None:
    # `jobcast jobs show` printed a stray "jobs" line above its one job; `orders show` has none.
    console = Console(width=120, record=True, force_terminal=False)
    console.print(job_table([a_job()]))
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


def test_an_empty_listing_says_it_is_empty() -> None:
    # A header alone, with nothing under it, read as if the output had been cut off.
    empty_book = ladder(BookDepth(symbol="SOL-USD", bids=[], asks=[]))
    assert "no orders rest on either side" in printed([empty_book], 80)
    assert "no jobs failed" in printed([job_table([], empty="no jobs failed")], 80)
    assert "no orders open" in printed([order_table([], empty="no orders open")], 120)
    assert "no jobs" not in printed([job_table([a_job()], empty="no jobs")], 120)


def test_sizes_are_named_in_the_binary_units_they_are_counted_in() -> None:
    # Counted in 1024s and printed as GB: a 2 GiB cap read as "2.0 GB", 7% under its size.
    assert human_bytes(512) == "512 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(3 * 1024**2) == "3.0 MiB"
    assert human_bytes(2 * 1024**3) == "2.0 GiB"
    assert human_bytes(4096 * 1024**3) == "4096.0 GiB"
