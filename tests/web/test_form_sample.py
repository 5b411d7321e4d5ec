"""The new-job form offers sum and mean for exactly the columns the server sums (sample.js):
checked in real headless Chromium against real aggregate jobs of the same files."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from jobcast.rediskeys import job_key
from tests.web.conftest import NewPage, WebStack, aggregate_form
from workers.files.na_values import PANDAS_NA_VALUES

pytestmark = pytest.mark.slow

ENDED = ("succeeded", "failed")


def numbers(first: int, last: int, template: str = "c{k},{n}") -> list[str]:
    return [template.format(k=n % 3, n=n) for n in range(first, last)]


#: name: (file lines, the summed column, whether the server sums it). The form read 21 lines,
#: ran JavaScript's Number() over them and took only "" as missing: each of these it got wrong.
CASES = {
    # Text first on line 31: past the form's old 21 lines, within the server's 51.
    "text-on-line-31": (["city,amount", *numbers(1, 30), "c1,abc", *numbers(31, 40)], False),
    # pandas' missing values: the column is numbers with gaps.
    "missing-values": (["city,amount", *numbers(1, 9), "c1,NA", "c2,null", "c0,", "c1,N/A"], True),
    # Hex, which Number() reads: the server keeps such a column as text.
    "hex": (["city,amount", "c1,0x1F", "c2,0x20"], False),
    # A cell of spaces is text to the server, not a gap.
    "spaces": (["city,amount", "c1,1", "c2,  ", "c0,3"], False),
    # A decimal point on line 31 makes the server read `;` files with ".": `1,5` is then text.
    "decimal-point-on-line-31": (
        ["city;amount;qty", *numbers(1, 30, "c{k};{n},5;{n}"), "c1;3,5;2.5"],
        False,
    ),
    # The server's booleans are spelt true, True or TRUE: `tRue` is text.
    "boolean-spelling": (["city,amount", "c1,tRue", "c2,false"], False),
    # Blank lines (spaces too) are skipped, as pandas skips them, and use up sampled lines.
    "blank-lines": (["", "city,amount", "   ", *numbers(1, 5), "", "c1,7.5"], True),
}


def offered(page: Any, lines: list[str], tmp_path: Any) -> bool:
    """Whether the form offers sum of the file's `amount` column."""
    export = tmp_path / "sample.csv"
    export.write_text("\n".join(lines) + "\n")
    aggregate_form(page, export)
    page.wait_for_selector("input[aria-label='group by city']")
    enabled: bool = page.is_enabled("input[aria-label='sum of amount']")
    return enabled


def server_sums(stack: WebStack, key: str, lines: list[str]) -> bool:
    """Whether the server's aggregate job sums the file's `amount` column."""
    params = {"operation": "aggregate", "group_by": ["city"], "metrics": {"amount": ["sum"]}}
    data = ("\n".join(lines) + "\n").encode()
    with stack.rest(key) as rest:
        answer = rest.post(
            "/jobs", files={"file": ("sample.csv", data)}, data={"params": json.dumps(params)}
        )
    job_id = answer.json()["id"]
    deadline = time.monotonic() + 30
    while (status := stack.redis.hget(job_key(job_id), "status")) not in ENDED:
        assert time.monotonic() < deadline, f"job {job_id} never ended"
        time.sleep(0.05)
    return status == "succeeded"


@pytest.mark.parametrize("case", CASES)
def test_the_form_offers_sum_for_exactly_the_columns_the_server_sums(
    web_stack: WebStack, new_page: NewPage, tmp_path: Any, case: str
) -> None:
    lines, sums = CASES[case]
    key = web_stack.new_key(f"sample-{case}")
    assert server_sums(web_stack, key, lines) is sums
    assert offered(new_page(key), lines, tmp_path) is sums


#: In the page: sample.js's missing values, as a sorted list.
NA_VALUES = """async (src) => [...(await import(src)).NA_VALUES].sort()"""


def test_the_form_reads_as_missing_the_cells_the_server_reads_as_missing(
    web_stack: WebStack, new_page: NewPage
) -> None:
    page = new_page(web_stack.new_key("na-values"))
    module = (
        page.locator("script[type=module]").get_attribute("src").replace("main.js", "sample.js")
    )
    assert page.evaluate(NA_VALUES, module) == sorted(PANDAS_NA_VALUES)
