"""Listings as a user sees them: fitted to a real terminal's width, whole when piped, and an
empty one printing nothing a script would count."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from jobcast.client import Client
from tests.client.conftest import ClientStack
from tests.client.support import write_table
from tests.client.terminal import ANSI, run_in_terminal

JOBCAST = [sys.executable, "-m", "jobcast"]
LONG_NAME = "quarterly-sales-by-region-and-city-with-returns.csv"


def user_env(stack: ClientStack, key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCAST_")}
    return {**env, **stack.env(), "JOBCAST_API_KEY": key, "TERM": "xterm-256color"}


@pytest.fixture(scope="module")
def lister(stack: ClientStack, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A key with one finished job of a long file name, and the job's id."""
    key, _ = stack.new_key("lister")
    data = write_table(tmp_path_factory.mktemp("widths") / LONG_NAME, 100)
    with Client(stack.url, key) as client:
        job = client.submit_file(data)
        client.wait(job.id, timeout=60)
    return key, job.id


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_jobs_ls_keeps_each_job_on_one_line_at_any_width(
    stack: ClientStack, lister: tuple[str, str], columns: int
) -> None:
    # At 80 columns and under, every cell was folded: "succeeded" over two lines, the file
    # name letter by letter.
    key, job_id = lister
    code, screen = run_in_terminal(
        [*JOBCAST, "jobs", "ls"], user_env(stack, key), size=(40, columns)
    )
    lines = ANSI.sub("", screen).splitlines()
    assert code == 0, screen
    (row,) = [line for line in lines if line.startswith("│")]
    assert job_id in row
    assert "│ succeeded " in row
    assert max(len(line) for line in lines) <= columns, "\n".join(lines)
    said = " ".join(" ".join(lines).split())
    if columns < 120:
        assert "left out to fit:" in said
        assert "--json or a wider terminal shows them" in said
        assert "…" in row  # the file name, cut
    else:
        assert "left out" not in said


def test_jobs_ls_narrower_than_an_id_and_its_status_folds_them_instead_of_cutting_them(
    stack: ClientStack, lister: tuple[str, str]
) -> None:
    # At 40 columns the id was cut to its first 25 characters, with no "…" to say so: copied
    # into `jobs show`, it named no job ("j_1d92808dfe5a78f9585d62f"), and the status read
    # "succeede".
    key, job_id = lister
    code, screen = run_in_terminal([*JOBCAST, "jobs", "ls"], user_env(stack, key), size=(40, 40))
    lines = ANSI.sub("", screen).splitlines()
    assert code == 0, screen
    cells = [line.strip("│").split("│") for line in lines if line.startswith("│")]
    assert "".join(row[0].strip() for row in cells) == job_id, screen
    assert "".join(row[1].strip() for row in cells) == "succeeded", screen
    assert max(len(line) for line in lines) <= 40, screen


def test_jobs_ls_piped_prints_every_value_whole(
    stack: ClientStack, lister: tuple[str, str]
) -> None:
    key, job_id = lister
    done = _piped(stack, key, "jobs", "ls")
    assert done[0] == 0
    assert job_id in done[1]
    assert LONG_NAME in done[1]
    assert "…" not in done[1]
    assert "left out" not in done[1]


def test_jobs_show_in_an_80_column_terminal_is_a_field_a_line_with_nothing_cut(
    stack: ClientStack, lister: tuple[str, str]
) -> None:
    # A one-row table: at 80 columns the file name was cut and size and percent left out.
    key, job_id = lister
    code, screen = run_in_terminal(
        [*JOBCAST, "jobs", "show", job_id], user_env(stack, key), size=(40, 80)
    )
    assert code == 0, screen
    lines = [line.split() for line in ANSI.sub("", screen).splitlines() if line.strip()]
    assert lines[:4] == [
        ["id", job_id],
        ["status", "succeeded"],
        ["operation", "profile"],
        ["file", LONG_NAME],
    ]
    assert [name for name, *_ in lines] == ["id", "status", "operation", "file", "size", "percent"]


def test_orders_place_and_cancel_in_a_terminal_are_a_field_a_line(stack: ClientStack) -> None:
    # A one-row table, as `show` was before it became a field a line: at 80 columns its columns
    # were left out and named under it.
    key, _ = stack.new_key("place-terminal")
    code, screen = run_in_terminal(
        [*JOBCAST, "orders", "place", "ACME", "buy", "10", "--price", "100.5"],
        user_env(stack, key),
        size=(40, 80),
    )
    assert code == 0, screen
    lines = [line.split() for line in ANSI.sub("", screen).splitlines() if line.strip()]
    assert lines[0][0] == "id", screen
    order_id = lines[0][1]
    assert lines == [
        ["id", order_id],
        ["symbol", "ACME"],
        ["side", "buy"],
        ["type", "limit"],
        ["price", "100.50"],
        ["qty", "10"],
        ["filled", "0"],
        ["status", "open"],
    ]
    code, screen = run_in_terminal(
        [*JOBCAST, "orders", "cancel", order_id], user_env(stack, key), size=(40, 80)
    )
    assert code == 0, screen
    lines = [line.split() for line in ANSI.sub("", screen).splitlines() if line.strip()]
    assert lines[0] == ["id", order_id]
    assert ["status", "cancelled"] in lines


def _piped(stack: ClientStack, key: str, *args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [*JOBCAST, *args], env=user_env(stack, key), capture_output=True, text=True, timeout=60
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(
    ("command", "empty"), [(("jobs", "ls"), "no jobs"), (("orders", "ls"), "no orders")]
)
def test_an_empty_list_prints_nothing_on_stdout_and_says_so_on_stderr(
    stack: ClientStack, command: tuple[str, ...], empty: str
) -> None:
    # It printed a table's header and rules: `jobcast jobs ls | wc -l` counted 3 for no job.
    key, _ = stack.new_key(f"empty-{command[0]}")
    code, out, err = _piped(stack, key, *command)
    assert (code, out) == (0, "")
    assert err.strip() == empty
    code, out, _ = _piped(stack, key, *command, "--json")
    assert (code, json.loads(out)) == (0, [])


def test_an_empty_list_in_a_terminal_says_so_without_a_header(stack: ClientStack) -> None:
    key, _ = stack.new_key("empty-terminal")
    code, screen = run_in_terminal([*JOBCAST, "jobs", "ls"], user_env(stack, key))
    assert code == 0
    assert ANSI.sub("", screen).strip() == "no jobs"


def test_an_empty_book_prints_nothing_on_stdout_and_says_so_on_stderr(stack: ClientStack) -> None:
    # It printed the ladder's title, header and rules: `market book ACME | wc -l` counted 4.
    key, _ = stack.new_key("empty-book")
    code, out, err = _piped(stack, key, "market", "book", "ACME")
    assert (code, out) == (0, "")
    assert err.strip() == "no orders rest on either side of ACME"
    code, out, _ = _piped(stack, key, "market", "book", "ACME", "--json")
    assert (code, json.loads(out)) == (0, {"symbol": "ACME", "bids": [], "asks": []})
