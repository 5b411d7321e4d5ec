"""The user commands of `jobcast` against a real stack, run as a user runs them."""

from __future__ import annotations

import itertools
import json
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from click.testing import Result
from typer.testing import CliRunner

from jobcast.cli import cli
from jobcast.client import Client, errors
from jobcast.client_cli.summary import human_bytes
from jobcast.embedded_redis import free_port
from jobcast.events import read_since
from jobcast.orders.symbols import symbol_table
from jobcast.settings import Settings
from tests.client.conftest import ClientStack
from tests.client.support import (
    cancelled_while_running,
    city_totals,
    write_ragged,
    write_table,
)
from tests.client.terminal import Terminal, read_until, run_in_terminal
from tests.support.processes import REPO_ROOT, wait_for

JOBCAST = [sys.executable, "-m", "jobcast"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def user_env(stack: ClientStack, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCAST_")}
    return {**env, **stack.env(), "TERM": "xterm-256color", **extra}


def jobcast_process(
    env: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a command as its own process, stdout and stderr kept apart (a file or pipe each)."""
    return subprocess.run(
        [*JOBCAST, *args], input=stdin, env=env, capture_output=True, text=True, timeout=timeout
    )


def jobcast(stack: ClientStack, *args: str, **env: str | None) -> Result:
    """Run a command in this process (fast); the terminal-bound ones use a real terminal."""
    return CliRunner().invoke(cli, list(args), env={**stack.env(), **env})


def test_submit_wait_shows_upload_and_processing_bars_then_the_summary(
    stack: ClientStack, tmp_path: Path
) -> None:
    data = write_table(tmp_path / "data.csv", 30_000)
    code, screen = run_in_terminal([*JOBCAST, "submit", str(data), "--wait"], user_env(stack))
    text = ANSI.sub("", screen)
    assert code == 0, text
    assert "upload" in text
    assert "processing" in text
    assert "━" in text  # the bars were drawn
    assert "\x1b[" in screen  # ... in a terminal, with its escape codes
    assert "profile result" in text
    assert "30,000" in text
    for column in ("id", "name", "amount", "city"):
        assert re.search(rf"│ {column}\s+│", text), column


def last_processing_bar(text: str, before: str) -> str:
    """The processing bar as last drawn before `before` (rich redraws it in place)."""
    end = text.index(before)
    return " ".join(text[text.rindex("processing", 0, end) : end].split())


def test_submit_wait_of_a_failed_job_ends_its_bar_saying_failed(
    stack: ClientStack, tmp_path: Path
) -> None:
    # Its bar stayed drawn at "0% 0 rows" above the error: it read as stuck, not failed.
    data = write_table(tmp_path / "data.csv", 50)
    argv = [*JOBCAST, "submit", str(data), "--op", "aggregate", "--group-by", "nope", "--wait"]
    code, screen = run_in_terminal(argv, user_env(stack))
    text = ANSI.sub("", screen)
    assert code == 1, text
    bar = last_processing_bar(text, "error unknown_column")
    # "N rows · failed" where the job got to, or "failed" alone when it failed before any progress.
    assert re.search(r"% (?:[\d,]+ rows · )?failed$", bar), bar


def test_submit_wait_of_a_cancelled_job_ends_its_bar_saying_cancelled_where_it_stopped(
    stack: ClientStack, tmp_path: Path
) -> None:
    key, _ = stack.new_key("bar-cancel")
    data = write_table(tmp_path / "big.csv", 1_500_000)  # long enough to still run at the cancel
    terminal = Terminal(
        [*JOBCAST, "submit", str(data), "--wait"], user_env(stack, JOBCAST_API_KEY=key)
    )
    try:
        terminal.expect(" rows")  # the job has started
        with Client(stack.url, key) as client:
            (job,) = client.jobs()
            client.cancel(job.id)
        assert terminal.proc.wait(timeout=60) == 1
        text = terminal.rest()
    finally:
        terminal.close()
    bar = last_processing_bar(text, "error job_cancelled")
    assert re.search(r"[\d,]+ rows · cancelled$", bar), bar
    assert "ETA" not in bar


def test_submit_wait_into_a_file_keeps_the_bars_on_stderr(
    stack: ClientStack, tmp_path: Path
) -> None:
    data = write_table(tmp_path / "data.csv", 1_000)
    done = jobcast_process(user_env(stack), "submit", str(data), "--wait", timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("job j_")  # what `> out.txt` keeps: the job and its summary
    assert "processing" not in done.stdout
    assert "100%" not in done.stdout
    assert "processing" in done.stderr


def test_chat_does_not_send_or_hold_a_line_past_its_cap(stack: ClientStack) -> None:
    from jobcast.client_cli import chat

    overlong = "x" * (chat.MAX_LINE + 10)
    said = jobcast_process(user_env(stack), "chat", "cli-cap", stdin=f"{overlong}\nhello\n")
    assert said.returncode == 0, said.stderr
    assert "too_long" in said.stderr
    room = read_since(stack.redis, "chat.cli-cap", "0-0")
    assert [e["data"]["text"] for e in room if e["type"] == "chat.message"] == ["hello"]


def test_piped_chat_says_what_the_server_refused_before_leaving(stack: ClientStack) -> None:
    # Piped, the input ends the moment its line is sent: the command left before the server's
    # answer came, so a message over the server's limit was refused unseen (exit 0, as if said).
    too_large = "x" * (Settings().chat_max_message_bytes + 1)
    said = jobcast_process(user_env(stack), "chat", "cli-refused", stdin=f"{too_large}\n")
    assert said.returncode == 0, said.stderr
    assert "present: " in said.stdout  # the room as joined, printed before leaving
    assert "too_large" in said.stdout


def test_submit_json_prints_the_result_as_json(stack: ClientStack, tmp_path: Path) -> None:
    data = write_table(tmp_path / "data.csv", 1_000)
    done = jobcast(
        stack,
        "submit",
        str(data),
        "--op",
        "aggregate",
        "--group-by",
        "city",
        "--metric",
        "amount:sum",
        "--wait",
        "--json",
    )
    assert done.exit_code == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["operation"] == "aggregate"
    assert result["job_id"].startswith("j_")  # what a script needs for its next command
    assert result["groups"] == len(result["table"]) == 13
    got = {row["city"]: row["amount_sum"] for row in result["table"]}
    assert got == {city: total for city, (total, _) in city_totals(1_000).items()}


def test_a_profile_and_an_aggregate_print_datetimes_alike(
    stack: ClientStack, tmp_path: Path
) -> None:
    # The profile's were ISO 8601 (2024-05-01T12:00:00), the aggregate's 2024-05-01 12:00:00.
    data = tmp_path / "stamps.csv"
    data.write_text("when,n\n2024-05-01 12:00:00,1\n2024-05-02 08:30:00,2\n")
    profiled = jobcast(stack, "submit", str(data), "--wait", COLUMNS="200")
    assert profiled.exit_code == 0, profiled.stderr
    grouped = jobcast(
        stack, "submit", str(data), "--op", "aggregate", "--group-by", "when",
        "--metric", "n:sum", "--wait", COLUMNS="200",
    )  # fmt: skip
    assert grouped.exit_code == 0, grouped.stderr
    for shown in (profiled.stdout, grouped.stdout):
        assert "2024-05-01 12:00:00" in shown, shown
        assert "2024-05-02 08:30:00" in shown, shown
        assert "T12:00" not in shown


def test_submit_dash_uploads_what_comes_on_standard_input(
    stack: ClientStack, tmp_path: Path
) -> None:
    # `jobcast submit -` said "File '-' does not exist", where a Unix command reads its input.
    table = write_table(tmp_path / "data.csv", 50).read_text()
    done = jobcast_process(user_env(stack), "submit", "-", "--wait", "--json", stdin=table)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["rows"] == 50
    assert result["format"] == "csv"


def test_submit_reads_the_file_as_its_options_say(stack: ClientStack, tmp_path: Path) -> None:
    # No header line, decimal commas, cp1252 text: what a European spreadsheet export may be.
    data = tmp_path / "export.csv"
    data.write_bytes("Zürich;2,5\nLyon;1,5\n".encode("cp1252"))
    done = jobcast(
        stack,
        "submit",
        str(data),
        "--no-header",
        "--decimal",
        ",",
        "--encoding",
        "cp1252",
        "--wait",
        "--json",
    )
    assert done.exit_code == 0, done.stderr
    profile = {c["name"]: c for c in json.loads(done.stdout)["profile"]}
    assert list(profile) == ["0", "1"]
    assert profile["1"]["mean"] == 2.0
    assert {t["value"] for t in profile["0"]["top"]} == {"Zürich", "Lyon"}
    wrong = jobcast(stack, "submit", str(data), "--decimal", ";")
    assert wrong.exit_code == 2
    assert "--decimal" in wrong.stderr


def test_a_bad_file_exits_non_zero_with_its_error_code(stack: ClientStack, tmp_path: Path) -> None:
    failed = jobcast(stack, "submit", str(write_ragged(tmp_path / "bad.csv")), "--wait")
    assert failed.exit_code == 1
    assert "ragged_rows" in failed.stderr
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    refused = jobcast(stack, "submit", str(empty), "--json")
    assert refused.exit_code == 3
    assert json.loads(refused.stdout)["error"]["code"] == "empty_file"


def test_a_wrong_key_exits_with_the_auth_code(stack: ClientStack) -> None:
    done = jobcast(stack, "jobs", "ls", JOBCAST_API_KEY="jc_wrong")
    assert done.exit_code == 4
    assert "invalid_key" in done.stderr


def test_an_upload_the_server_refused_leaves_no_bar_behind(
    stack: ClientStack, tmp_path: Path
) -> None:
    # A small file went out whole before the 401 came: its bar stood at 100% above the error,
    # as if the file had been taken.
    table = str(write_table(tmp_path / "data.csv", 10))
    done = jobcast(stack, "submit", table, JOBCAST_API_KEY="jc_wrong")
    assert done.exit_code == 4
    assert "invalid_key" in done.stderr
    assert "upload" not in done.stderr, done.stderr
    assert "100%" not in done.stderr


def test_watch_user_me_prints_a_jobs_events_as_json_lines(
    stack: ClientStack, tmp_path: Path
) -> None:
    key, _ = stack.new_key("watcher")  # a principal of its own: its stream holds only this job
    watcher = subprocess.Popen(
        [*JOBCAST, "watch", "user.me", "--since", "0-0"],
        stdout=subprocess.PIPE,
        text=True,
        env=user_env(stack, JOBCAST_API_KEY=key),
    )
    try:
        with Client(stack.url, key) as client:
            job = client.submit_file(write_table(tmp_path / "data.csv", 2_000))
        assert watcher.stdout is not None
        lines = []
        while not lines or lines[-1]["type"] != "job.succeeded":
            lines.append(json.loads(watcher.stdout.readline()))
    finally:
        watcher.terminate()
        watcher.wait(timeout=10)
    assert {line["channel"] for line in lines} == {"user.me"}
    assert {line["data"]["job_id"] for line in lines} == {job.id}
    assert lines[0]["type"] == "job.queued"
    seqs = [line["seq"] for line in lines]
    assert len(set(seqs)) == len(seqs)


def test_watch_of_job_channels_ends_once_each_job_has_ended(
    stack: ClientStack, tmp_path: Path
) -> None:
    # It waited for an interrupt, also when the job had ended before the watch began.
    key, _ = stack.new_key("job-watcher")
    with Client(stack.url, key) as client:
        ended = client.submit_file(write_table(tmp_path / "a.csv", 50))
        client.wait(ended.id)
        running = client.submit_file(write_table(tmp_path / "b.csv", 2_000))
    env = user_env(stack, JOBCAST_API_KEY=key)

    done = jobcast_process(env, "watch", f"job.{ended.id}", f"job.{running.id}", timeout=60)

    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0]["type"] == "snapshot"
    # A start state has no time (it printed `"ts": null`); each event has its own.
    starts = [line for line in lines if line["type"] == "snapshot"]
    assert len(starts) == 2
    assert [line for line in starts if "ts" in line] == []
    assert all(isinstance(line["ts"], float) for line in lines if line not in starts), lines
    last = {line["channel"]: line for line in lines}
    assert {c: line["data"]["status"] for c, line in last.items()} == {
        f"job.{ended.id}": "succeeded",
        f"job.{running.id}": "succeeded",
    }


def test_watch_of_jobs_that_failed_or_were_cancelled_exits_1_with_their_errors(
    stack: ClientStack, tmp_path: Path
) -> None:
    # It exited 0 whatever the jobs' ends: a script could not tell a failed job from a done one.
    key, _ = stack.new_key("unlucky-watcher")
    with Client(stack.url, key) as client:
        failed = client.submit_file(
            write_table(tmp_path / "a.csv", 5), "aggregate", group_by=["nope"]
        )
        cancelled = cancelled_while_running(client, write_table(tmp_path / "b.csv", 300_000))
    env = user_env(stack, JOBCAST_API_KEY=key)

    done = jobcast_process(env, "watch", f"job.{failed.id}", f"job.{cancelled.id}", timeout=60)

    assert done.returncode == 1, done.stderr
    said = done.stderr.splitlines()
    assert len(said) == 2, done.stderr
    assert said[0].startswith("error unknown_column: No column named 'nope'")
    assert said[1] == f"error job_cancelled: Job {cancelled.id} was cancelled."
    ends = {json.loads(line)["data"].get("status") for line in done.stdout.splitlines()}
    assert {"failed", "cancelled"} <= ends


def test_watch_says_on_stderr_when_its_connection_drops_and_when_it_resumed(
    stack: ClientStack, tmp_path: Path
) -> None:
    # It reconnected silently: a quiet watch could not be told from a server that was down.
    key, _ = stack.new_key("dropped")
    watcher = subprocess.Popen(
        [*JOBCAST, "watch", "user.me", "--since", "0-0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=user_env(stack, JOBCAST_API_KEY=key),
    )
    said: queue.Queue[str] = queue.Queue()
    assert watcher.stdout is not None
    assert watcher.stderr is not None
    threading.Thread(target=lambda: [said.put(x) for x in watcher.stderr], daemon=True).start()
    try:
        with Client(stack.url, key) as client:
            client.submit_file(write_table(tmp_path / "data.csv", 10))
        assert json.loads(watcher.stdout.readline())["type"] == "job.queued"
        stack.crash_api().join()
        lines = [said.get(timeout=30), said.get(timeout=30)]
    finally:
        watcher.terminate()
        watcher.wait(timeout=10)
    assert lines[0].startswith("connection lost; reconnecting")
    assert lines[1].startswith("reconnected; resuming after the last event printed")


@pytest.mark.parametrize(
    ("symbol", "options", "first"),
    # A symbol each: one case's order on the other's book would be a change it did not make.
    # The empty book first: as a table, nothing on stdout and a line on stderr; as JSON, whole.
    [
        ("BTC-USD", (), ("stderr", "no orders rest on either side of BTC-USD")),
        ("SOL-USD", ("--json",), ("stdout", '"symbol": "SOL-USD"')),
    ],
    ids=["table", "json"],
)
def test_a_piped_book_watch_prints_each_book_as_it_comes(
    stack: ClientStack, symbol: str, options: tuple[str, ...], first: tuple[str, str]
) -> None:
    # Piped, it printed nothing until killed: a rich Live display draws only on a terminal.
    key, _ = stack.new_key("piped-book")
    argv = [*JOBCAST, "market", "book", symbol, "--watch", *options]
    env = user_env(stack, JOBCAST_API_KEY=key)
    with (
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as watcher,
        Client(stack.url, key) as client,
    ):
        assert watcher.stdout is not None
        assert watcher.stderr is not None
        out = watcher.stdout.fileno()
        stream, shown = first
        placed = None
        try:
            fd = out if stream == "stdout" else watcher.stderr.fileno()
            after_first = read_until(fd, "", shown, timeout=30)
            placed = client.place(symbol, "sell", 7, "60000.5")
            read_until(out, after_first if fd == out else "", "60000.5", timeout=30)
        finally:
            watcher.terminate()
            if placed is not None:  # off the book again: other tests read these books whole
                client.cancel_order(placed.id)
                wait_for(lambda: client.order(placed.id).status == "cancelled", 30, "cancel")


def test_login_saves_url_and_key_readable_by_the_user_only(stack: ClientStack) -> None:
    saved = Path(stack.env()["JOBCAST_CONFIG"])
    saved.unlink(missing_ok=True)
    unset: dict[str, str | None] = {"JOBCAST_URL": None, "JOBCAST_API_KEY": None}
    done = CliRunner().invoke(
        cli,
        ["login", "--url", stack.url],
        input=stack.key + "\n",
        env={**stack.env(), **unset},
    )
    assert done.exit_code == 0, done.output
    assert stack.key not in done.stdout  # asked for hidden
    assert f"Signed in as client (principal {stack.principal_id}, key " in done.stdout
    assert saved.stat().st_mode & 0o777 == 0o600
    listed = jobcast(stack, "jobs", "ls", "--json", **unset)
    assert listed.exit_code == 0, listed.stderr
    assert isinstance(json.loads(listed.stdout), list)


def test_login_takes_a_piped_key_without_a_warning(stack: ClientStack, tmp_path: Path) -> None:
    # The hidden prompt printed "GetPassWarning: Can not control echo on the terminal".
    config = tmp_path / "config.json"
    env = {**user_env(stack), "JOBCAST_CONFIG": str(config)}
    env.pop("JOBCAST_API_KEY", None)
    env.pop("JOBCAST_URL", None)

    done = jobcast_process(env, "login", "--url", stack.url, stdin=stack.key + "\n")

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert json.loads(config.read_text())["api_key"] == stack.key


def test_login_given_no_piped_key_is_a_usage_error_saying_what_to_fix(
    stack: ClientStack, tmp_path: Path
) -> None:
    # `printf '%s\n' "$KEY" | jobcast login` with KEY unset, or `</dev/null`: it exited 130,
    # which the exit-code table keeps for Ctrl-C.
    config = tmp_path / "config.json"
    env = {**user_env(stack), "JOBCAST_CONFIG": str(config)}
    env.pop("JOBCAST_API_KEY", None)
    for stdin, said in (("\n", "gave an empty line"), ("", "ended")):
        done = jobcast_process(env, "login", "--url", stack.url, stdin=stdin)
        assert done.returncode == 2, (stdin, done.stderr)
        assert done.stderr == (
            f"error: stdin {said}, not a key: nothing saved. Pipe the key in (is the variable "
            "you piped set?), give --key, or run `jobcast login` in a terminal to be asked.\n"
        )
        assert not config.exists()


def test_whoami_shows_the_principal_and_its_limits(stack: ClientStack) -> None:
    shown = jobcast(stack, "whoami", COLUMNS="200")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith(f"client (principal {stack.principal_id}, key ")
    limits = stack.settings
    assert "largest upload" in shown.stdout
    assert human_bytes(limits.upload_max_bytes).endswith(("KiB", "MiB", "GiB"))
    assert human_bytes(limits.upload_max_bytes) in shown.stdout
    assert f"{limits.rate_submit_per_minute:,}" in shown.stdout
    as_json = json.loads(jobcast(stack, "whoami", "--json").stdout)
    assert as_json["id"] == stack.principal_id
    assert as_json["limits"]["active_jobs"] == limits.quota_active_jobs
    refused = jobcast(stack, "whoami", JOBCAST_API_KEY="jc_0_wrong")
    assert refused.exit_code == 4, refused.output


def test_a_name_and_a_path_with_brackets_are_shown_as_they_are(
    stack: ClientStack, tmp_path: Path
) -> None:
    # Read as markup, "team[eu]" was shown as "team", and "Saved to .../jobcast[old].json" lost
    # its "[old]".
    key, principal_id = stack.new_key("team[eu]")
    config = tmp_path / "jobcast[old].json"
    unset: dict[str, str | None] = {"JOBCAST_URL": None, "JOBCAST_API_KEY": None}
    env = {"JOBCAST_CONFIG": str(config), **unset}
    done = jobcast(stack, "login", "--url", stack.url, "--key", key, **env)
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(f"Signed in as team[eu] (principal {principal_id}, key ")
    assert f"Saved to {config} (mode 600)." in done.stdout, done.stdout
    shown = jobcast(stack, "whoami", COLUMNS="200", **env)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith(f"team[eu] (principal {principal_id}, key "), shown.stdout


def test_login_without_url_checks_and_saves_the_api_where_jobcast_up_serves_it(
    stack: ClientStack,
) -> None:
    # With JOBCAST_API_PORT set for `make run`, login tried :8000 and failed to connect.
    saved = Path(stack.env()["JOBCAST_CONFIG"])
    saved.unlink(missing_ok=True)
    local_api = {"JOBCAST_API_HOST": "0.0.0.0", "JOBCAST_API_PORT": str(stack.port)}
    done = CliRunner().invoke(
        cli,
        ["login"],
        input=stack.key + "\n",
        env={**stack.env(), "JOBCAST_URL": None, "JOBCAST_API_KEY": None, **local_api},
    )
    assert done.exit_code == 0, done.output
    assert json.loads(saved.read_text())["url"] == stack.url


def test_every_user_command_has_help_with_an_example() -> None:
    commands = [
        ["login"],
        ["whoami"],
        ["submit"],
        ["watch"],
        ["chat"],
        ["jobs", "ls"],
        ["jobs", "show"],
        ["jobs", "cancel"],
        ["jobs", "result"],
        ["jobs", "download"],
        ["orders", "place"],
        ["orders", "cancel"],
        ["orders", "ls"],
        ["market", "ls"],
        ["market", "book"],
        ["market", "trades"],
        ["market", "fills"],
        ["up"],  # and the operator commands
        ["keys"],
        ["keys", "create"],
        ["keys", "list"],
        ["keys", "revoke"],
    ]
    for command in commands:
        done = CliRunner().invoke(cli, [*command, "--help"], env={"COLUMNS": "200"})
        assert done.exit_code == 0, command
        assert "Example: jobcast " + command[0] in done.stdout, command
    overview = CliRunner().invoke(cli, ["--help"], env={"COLUMNS": "200"}).stdout
    # Headed as the user commands': they read as every command's, `up` and `keys` included.
    assert "Exit codes of the user commands (`up` and `keys` list their own in their --help): " in (
        " ".join(line.strip(" │") for line in overview.splitlines())
    )
    assert "settings-table" not in overview  # a maintainer's command, named in README.md
    negative = CliRunner().invoke(cli, ["submit", "README.md", "--timeout", "-5"])
    assert negative.exit_code == 2


def test_version_prints_the_installed_packages_version() -> None:
    from importlib.metadata import version

    done = subprocess.run([*JOBCAST, "--version"], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"jobcast {version('jobcast')}\n", "")


def test_help_lists_the_exit_codes_of_the_readme_table() -> None:
    # `jobcast --help` left out 143, which the README's table has.
    readme = (REPO_ROOT / "README.md").read_text()
    table = readme.split("| exit code | meaning |\n|---|---|\n", 1)[1].split("\n\n", 1)[0]
    rows = [row.strip("|").split(" | ", 1) for row in table.splitlines()]
    overview = CliRunner().invoke(cli, ["--help"], env={"COLUMNS": "1000"}).stdout
    said = " ".join(line.strip(" │") for line in overview.splitlines())
    for code, meaning in rows:
        assert f"{code.strip()} {meaning.strip()}" in said, (code, said)


def test_the_operator_commands_help_gives_their_own_exit_codes() -> None:
    # `jobcast keys --help` gave none, and `up` none: the overview's are the user commands'.
    from jobcast.keys_cli import EXIT_CODES
    from jobcast.up_cli import UP_EXIT_CODES

    for command, codes in [
        (["keys"], EXIT_CODES),
        (["keys", "create"], EXIT_CODES),
        (["keys", "list"], EXIT_CODES),
        (["keys", "revoke"], EXIT_CODES),
        (["up"], UP_EXIT_CODES),
    ]:
        done = CliRunner().invoke(cli, [*command, "--help"], env={"COLUMNS": "1000"})
        assert codes in done.stdout, command


def test_readme_gives_the_chat_message_limit_and_the_line_cap_as_they_are() -> None:
    # README's `jobcast chat` comment said a line over 16 KiB was not sent; a 3,000-character
    # line was refused too, by the server's 2000-byte message limit, which it did not name.
    from jobcast.client_cli import chat

    readme = (REPO_ROOT / "README.md").read_text()
    comment = next(line for line in readme.splitlines() if line.startswith("jobcast chat "))
    limit = Settings.model_fields["chat_max_message_bytes"].default
    assert f"JOBCAST_CHAT_MAX_MESSAGE_BYTES, {limit} bytes by default" in comment, comment
    assert "too_large" in comment, comment
    assert f"a line over {chat.MAX_LINE} characters is not sent" in comment, comment


@pytest.mark.parametrize(
    "group", [[], ["jobs"], ["orders"], ["market"], ["keys"]], ids=lambda g: " ".join(g) or "-"
)
def test_a_command_list_gives_each_command_one_line(group: list[str]) -> None:
    # A help text written over two lines was listed as written: `keys create` read "the key is
    # printed" on one line and "once and never stored." on the next.
    done = CliRunner().invoke(cli, [*group, "--help"], env={"COLUMNS": "200"})
    listed = done.stdout.split("Commands")[1].split("╰")[0].splitlines()[1:]
    continued = [line for line in listed if line.startswith("│" + " " * 4)]
    assert listed, done.stdout
    assert not continued, done.stdout


def command_paths(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from command_paths(sub, (*path, name))


def test_every_help_text_reads_as_flowing_paragraphs_at_120_columns() -> None:
    # `jobcast watch --help` showed its second paragraph broken where the docstring was.
    for path in command_paths(typer.main.get_command(cli)):
        done = CliRunner().invoke(cli, [*path, "--help"], env={"COLUMNS": "120"})
        assert done.exit_code == 0, path
        lines = [line.rstrip() for line in done.stdout.splitlines()]
        # The prose above the boxes and below them: no paragraph's line ends short of the
        # width with the paragraph going on below it.
        boxes = [i for i, line in enumerate(lines) if line.startswith(("╭", "╰"))]
        prose = [*lines[: boxes[0]], "", *lines[boxes[-1] + 1 :]]
        broken = [
            line
            for line, below in itertools.pairwise(prose)
            if line.strip() and below.strip() and len(line) < 100
        ]
        assert not broken, (path, done.stdout)


def test_jobs_show_result_download_and_cancel(stack: ClientStack, tmp_path: Path) -> None:
    with Client(stack.url, stack.key) as client:
        job = client.submit_file(write_table(tmp_path / "data.csv", 500), "convert", to="csv")
        client.wait(job.id, timeout=60)
    shown = jobcast(stack, "jobs", "show", job.id, "--json")
    assert json.loads(shown.stdout)["status"] == "succeeded"
    result = jobcast(stack, "jobs", "result", job.id, "--json")
    assert json.loads(result.stdout)["artifact_format"] == "csv"
    saved = tmp_path / "out.csv"
    assert jobcast(stack, "jobs", "download", job.id, str(saved)).exit_code == 0
    assert len(saved.read_text().splitlines()) == 501
    nowhere = jobcast(stack, "jobs", "download", job.id, str(tmp_path / "no" / "out.csv"))
    assert nowhere.exit_code == 2
    assert nowhere.stderr == f"error: cannot save to {tmp_path / 'no' / 'out.csv'}: the " + (
        f"directory {tmp_path / 'no'} does not exist.\n"
    )
    finished = jobcast(stack, "jobs", "cancel", job.id)
    assert finished.exit_code == 3
    assert "already_finished" in finished.stderr


def test_an_aggregate_result_says_how_many_groups_it_leaves_out(
    stack: ClientStack, tmp_path: Path
) -> None:
    with Client(stack.url, stack.key) as client:
        job = client.submit_file(
            write_table(tmp_path / "data.csv", 97), "aggregate", group_by=["name"]
        )
        client.wait(job.id, timeout=60)
    shown = jobcast(stack, "jobs", "result", job.id, COLUMNS="200")
    assert shown.exit_code == 0, shown.stderr
    assert "97 groups (first 20 shown: --json prints all)" in shown.stdout


def test_the_result_of_a_failed_job_is_its_error_with_exit_1(
    stack: ClientStack, tmp_path: Path
) -> None:
    with Client(stack.url, stack.key) as client:
        job = client.submit_file(
            write_table(tmp_path / "data.csv", 5), "aggregate", group_by=["nope"]
        )
        with pytest.raises(errors.JobFailedError):
            client.wait(job.id, timeout=60)
    # The job's own error, as `submit --wait` prints it (was: exit 3, "job_failed: The job
    # ended failed; it has no result.", the cause only in --json's details).
    result = jobcast(stack, "jobs", "result", job.id, COLUMNS="60")
    assert result.exit_code == 1
    assert result.stderr.startswith("error unknown_column: No column named 'nope'")
    assert result.stderr.count("\n") == 1  # one line, however narrow: a script reads it whole


def test_a_table_piped_to_a_script_keeps_every_value_whole(stack: ClientStack) -> None:
    key, _ = stack.new_key("piper")
    env = user_env(stack, JOBCAST_API_KEY=key)
    env.pop("COLUMNS", None)  # as in a script's pipe: no terminal, no width given
    placed = jobcast_process(env, "orders", "place", "BTC-USD", "buy", "5", "--price", "100.5")
    assert placed.returncode == 0, placed.stderr
    listed = jobcast_process(env, "orders", "ls")
    row = next(line for line in listed.stdout.splitlines() if "BTC-USD" in line)
    assert "…" not in listed.stdout
    assert [cell.strip() for cell in row.split("│")[2:7]] == [
        "BTC-USD",
        "buy",
        "limit",
        "100.5",
        "5",
    ]


def into_a_closed_pipe(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run a command whose stdout is a pipe its reader has closed already (`| head -0`)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [*JOBCAST, *args], stdout=write_end, stderr=subprocess.PIPE, env=env, text=True
        )
    finally:
        os.close(write_end)


def test_output_into_a_pipe_its_reader_left_ends_quietly_with_141(
    stack: ClientStack, tmp_path: Path
) -> None:
    # `jobcast jobs ls | head -1` exited 1, as a failed job does, when head had left.
    key, _ = stack.new_key("header")
    env = user_env(stack, JOBCAST_API_KEY=key)
    with Client(stack.url, key) as client:
        client.submit_file(write_table(tmp_path / "data.csv", 10))
    for args in (["jobs", "ls"], ["jobs", "ls", "--json"], ["--help"]):
        done = into_a_closed_pipe(env, *args)
        assert (done.returncode, done.stderr) == (141, ""), args


def test_watch_ends_quietly_with_141_once_its_reader_has_left(
    stack: ClientStack, tmp_path: Path
) -> None:
    # `jobcast watch user.me | head -1`: head leaves after the first line, the watch goes on.
    key, _ = stack.new_key("first-line")
    with Client(stack.url, key) as client:
        client.submit_file(write_table(tmp_path / "data.csv", 10))
        watcher = subprocess.Popen(
            [*JOBCAST, "watch", "user.me", "--since", "0-0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=user_env(stack, JOBCAST_API_KEY=key),
        )
        try:
            assert watcher.stdout is not None
            assert watcher.stderr is not None
            assert watcher.stdout.readline().startswith(b'{"channel": "user.me"')
            watcher.stdout.close()
            client.submit_file(write_table(tmp_path / "more.csv", 10))  # more lines to write
            assert watcher.wait(timeout=60) == 141
            assert watcher.stderr.read() == b""
        finally:
            if watcher.poll() is None:
                watcher.kill()
            watcher.wait()


def test_chat_in_a_room_with_a_name_it_cannot_have_says_why_and_exits_2(
    stack: ClientStack,
) -> None:
    # The server's answer said "bad_channel" and "Channels are ... chat.{room}", in its
    # protocol's terms; the name is checked before connecting, by the rule the server keeps.
    nowhere = f"http://127.0.0.1:{free_port()}"  # a connection would be exit 5 here
    for room in ("bad room!", "", "x" * 129, "lobby\n"):
        refused = jobcast(stack, "chat", room, JOBCAST_URL=nowhere)
        assert refused.exit_code == 2, (room, refused.stdout, refused.stderr)
        assert refused.stderr == (
            f"error: {room!r} is not a room name: a room's name is 1 to 128 ASCII letters, "
            "digits or _ . : - (no spaces).\n"
        )
    longest = jobcast_process(user_env(stack), "chat", "x" * 128, stdin="")
    assert longest.returncode == 0, longest.stderr
    # An unknown kind names the kinds there are (it said only "Unknown channel kind 'bogus'").
    unknown = jobcast(stack, "watch", "bogus.channel")
    assert unknown.exit_code == 3, unknown.output
    assert "Channels are job.{id}, user.me" in " ".join(unknown.stderr.split())
    # A kind alone (`jobs`, `market`) was told the rule without being told it named nothing.
    alone = jobcast(stack, "watch", "jobs")
    assert alone.exit_code == 3, alone.output
    said = " ".join(alone.stderr.split())
    assert "Unknown channel 'jobs'. Channels are job.{id}, user.me" in said, said


def test_orders_of_an_unknown_symbol_say_so_and_exit_3(stack: ClientStack) -> None:
    refused = jobcast(stack, "orders", "ls", "--symbol", "NOPE")
    assert refused.exit_code == 3, refused.stdout
    assert "not_found" in refused.stderr
    # Said in the CLI's terms: the server's answer names its route, GET /market.
    assert "No symbol 'NOPE': `jobcast market ls` lists the traded ones." in refused.stderr
    assert "GET /market" not in refused.stderr
    book = jobcast(stack, "market", "book", "NOPE")
    assert book.exit_code == 3, book.stdout
    assert "`jobcast market ls` lists the traded ones." in book.stderr


def test_submit_checks_its_options_and_the_key_before_uploading(
    stack: ClientStack, tmp_path: Path
) -> None:
    key, _ = stack.new_key("careful")
    table = str(write_table(tmp_path / "data.csv", 10))
    wrong = [
        (["--op", "explode"], "--op: Input should be 'profile', 'aggregate' or 'convert'"),
        (["--op", "convert", "--to", "xlsx"], "--to: Input should be 'parquet' or 'csv'"),
        (["--op", "aggregate", "--metric", "amount:median"], "--metric: Input should be"),
        (["--op", "aggregate"], "aggregate needs `--group-by` columns and/or `--metric`."),
        (["--group-by", "city"], "`--group-by` and `--metric` only apply to aggregate."),
        (["--op", "convert"], "convert needs `--to`: parquet or csv."),
        (["--to", "csv"], "`--to` only applies to convert."),
        # Refused before the upload (the job used to fail on it after the whole file was sent).
        (["--encoding", "nope"], "--encoding: unknown encoding 'nope'; name a Python codec"),
    ]
    for options, said in wrong:
        refused = jobcast(stack, "submit", table, *options, JOBCAST_API_KEY=key)
        assert refused.exit_code == 2, (options, refused.stdout, refused.stderr)
        assert refused.stderr.startswith(f"error: {said}"), refused.stderr
        assert "upload" not in refused.stdout  # no bar: nothing was sent
    nothing_saved = str(tmp_path / "no-config.json")  # no `jobcast login` either
    keyless = jobcast(stack, "submit", table, JOBCAST_API_KEY=None, JOBCAST_CONFIG=nothing_saved)
    assert keyless.exit_code == 4
    assert "No API key: set JOBCAST_API_KEY or run `jobcast login`." in keyless.stderr
    assert "upload" not in keyless.stdout  # no bar for an upload that cannot start
    mute = jobcast(stack, "chat", "lobby", JOBCAST_API_KEY=None, JOBCAST_CONFIG=nothing_saved)
    assert (mute.exit_code, mute.stderr) == (4, keyless.stderr)  # one check, one wording
    with Client(stack.url, key) as client:
        assert list(client.jobs()) == []


def test_orders_place_sends_self_trade_prevention(stack: ClientStack) -> None:
    key, _ = stack.new_key("stp")
    options = ["orders", "place", "ETH-USD", "sell", "1", "--price", "97000.5", "--json"]
    placed = jobcast(stack, *options, "--stp", "cancel_oldest", JOBCAST_API_KEY=key)
    assert placed.exit_code == 0, placed.output
    order = json.loads(placed.stdout)
    try:
        assert order["self_trade_prevention"] == "cancel_oldest"
    finally:  # off the book again: other tests read these books whole
        jobcast(stack, "orders", "cancel", order["id"], JOBCAST_API_KEY=key)
    # Refused here, as --tif is: exit 2, wrong arguments (it went to the server: its 422, exit 3).
    refused = jobcast(stack, *options[:-1], "--stp", "sometimes", JOBCAST_API_KEY=key)
    assert refused.exit_code == 2, refused.output
    assert "'sometimes' is not one of 'none', 'cancel_newest', 'cancel_oldest'" in " ".join(
        refused.stderr.replace("│", " ").split()
    )


def test_orders_ls_newest_shows_the_last_placed_first(stack: ClientStack) -> None:
    key, _ = stack.new_key("newest")
    with Client(stack.url, key) as client:
        placed = [client.place("BTC-USD", "buy", 1, "2") for _ in range(3)]
        try:
            listed = jobcast(
                stack, "orders", "ls", "--newest", "--limit", "2", "--json", JOBCAST_API_KEY=key
            )
            assert listed.exit_code == 0, listed.output
            assert [o["id"] for o in json.loads(listed.stdout)] == [
                placed[2].id,
                placed[1].id,
            ]
        finally:  # off the book again: other tests read these books whole
            for order in placed:
                client.cancel_order(order.id)


def test_market_ls_lists_the_symbols_and_their_rules(stack: ClientStack) -> None:
    rules = symbol_table(stack.settings.order_symbols)
    listed = jobcast(stack, "market", "ls", "--json")
    assert listed.exit_code == 0, listed.output
    got = {s["symbol"]: (s["tick_size"], s["lot_size"]) for s in json.loads(listed.stdout)}
    assert got == {name: (str(r.tick_size), r.lot_size) for name, r in rules.items()}
    table = jobcast(stack, "market", "ls", COLUMNS="200")
    row = next(line for line in table.stdout.splitlines() if "BTC-USD" in line)
    btc = rules["BTC-USD"]
    assert [cell.strip() for cell in row.split("│")[1:6]] == [
        "BTC-USD",
        str(btc.tick_size),
        str(btc.lot_size),
        str(btc.min_quantity),
        str(btc.max_quantity),
    ]


def test_orders_place_of_an_unknown_symbol_names_jobcast_market_ls(stack: ClientStack) -> None:
    refused = jobcast(stack, "orders", "place", "NOPE", "buy", "1", "--price", "1")
    assert refused.exit_code == 3, refused.output
    assert "'NOPE' is not a traded symbol. `jobcast market ls` lists the traded ones." in (
        refused.stderr
    )
    lower = jobcast(stack, "orders", "place", "acme", "buy", "10", "--price", "1")
    assert lower.exit_code == 3, lower.output
    assert "(symbols are case-sensitive: 'ACME')" in lower.stderr
    described = CliRunner().invoke(cli, ["orders", "place", "--help"], env={"COLUMNS": "200"})
    assert "A traded symbol: jobcast market ls." in described.stdout


def test_orders_place_takes_side_type_and_tif_in_any_case(stack: ClientStack) -> None:
    key, _ = stack.new_key("any-case")
    options = ["orders", "place", "ETH-USD", "BUY", "1", "--price", "2", "--type", "Limit"]
    placed = jobcast(stack, *options, "--tif", "gtc", "--json", JOBCAST_API_KEY=key)
    assert placed.exit_code == 0, placed.output
    order = json.loads(placed.stdout)
    try:
        assert (order["side"], order["type"], order["time_in_force"]) == ("buy", "limit", "GTC")
    finally:  # off the book again: other tests read these books whole
        jobcast(stack, "orders", "cancel", order["id"], JOBCAST_API_KEY=key)
    # Nothing sells at 2: an IOC buy ends at once, resting nowhere.
    ioc = jobcast(stack, *options, "--tif", "ioc", "--json", JOBCAST_API_KEY=key)
    assert ioc.exit_code == 0, ioc.output
    assert json.loads(ioc.stdout)["time_in_force"] == "IOC"


@pytest.mark.parametrize(
    ("words", "given"),
    [
        (["-5", "--price", "100.5"], "-5"),
        (["--", "-5", "--price", "100"], "-5"),  # after `--` the rest are arguments
        (["--price", "-1", "-7"], "-7"),  # a negative price is the server's to refuse
        (["--price", "100", "--", "0"], "0"),
    ],
)
def test_a_quantity_that_is_not_positive_is_refused_as_such(words: list[str], given: str) -> None:
    # `buy -5` said `No such option: -5`, and `buy -- -5 --price 100` "extra arguments".
    done = CliRunner().invoke(cli, ["orders", "place", "BTC-USD", "buy", *words])
    assert done.exit_code == 2, done.output
    said = " ".join(done.stderr.replace("│", " ").split())
    assert f"Invalid value for 'quantity': must be a positive whole number (got {given})." in said


def test_orders_help_says_what_a_quantity_counts_and_when_place_exits_1() -> None:
    # It said "in the symbol's lots" (ACME's `buy 15` is 15 units: not a multiple of its lot of
    # 10) and that an IOC ended filled or cancelled exits 1, which it does not.
    described = CliRunner().invoke(cli, ["orders", "place", "--help"], env={"COLUMNS": "200"})
    said = " ".join(described.stdout.replace("│", " ").split())
    assert "How many units: a positive whole number, a multiple of the symbol's lot" in said
    assert "Exit 1 when the order is rejected." in said
    assert "exit 1)" not in said


def test_orders_ls_checks_its_status_before_asking() -> None:
    # An unknown status went to the server: its 422 and exit 3, not a wrong argument's 2.
    done = CliRunner().invoke(cli, ["orders", "ls", "--status", "bogus"])
    assert done.exit_code == 2, done.output
    said = " ".join(done.stderr.replace("│", " ").split())
    assert "'bogus' is not one of 'open', 'partially_filled', 'filled'" in said


def test_jobs_ls_checks_its_status_before_asking() -> None:
    done = CliRunner().invoke(cli, ["jobs", "ls", "--status", "done"])
    assert done.exit_code == 2, done.output
    said = " ".join(done.stderr.replace("│", " ").split())
    assert "'done' is not one of 'queued', 'running'" in said


def test_orders_ls_takes_a_status_in_any_case(stack: ClientStack) -> None:
    key, _ = stack.new_key("status-case")
    listed = jobcast(stack, "orders", "ls", "--status", "OPEN", "--json", JOBCAST_API_KEY=key)
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == []


def test_a_mistyped_option_of_orders_place_is_still_named() -> None:
    done = CliRunner().invoke(cli, ["orders", "place", "BTC-USD", "buy", "5", "--pricee", "1"])
    assert done.exit_code == 2
    said = " ".join(done.stderr.replace("│", " ").split())
    assert "No such option: --pricee (Possible options: --price)" in said


def test_ctrl_c_at_the_login_prompt_saves_nothing_and_exits_130(tmp_path: Path) -> None:
    # Ctrl-C at the prompt printed click's "Aborted!" and exited 1.
    config = tmp_path / "config.json"
    env = {**os.environ, "JOBCAST_CONFIG": str(config), "TERM": "xterm-256color"}
    terminal = Terminal([*JOBCAST, "login", "--url", "http://127.0.0.1:9"], env)
    try:
        terminal.expect("API key:")
        terminal.type("\x03")
        assert terminal.proc.wait(timeout=15) == 130
        assert "No key given: nothing saved." in terminal.rest()
    finally:
        terminal.close()
    assert not config.exists()


def test_ctrl_d_at_the_login_prompt_saves_nothing_and_is_a_usage_error(tmp_path: Path) -> None:
    # Ctrl-D, the input ended with no key, exited 130 as if interrupted.
    config = tmp_path / "config.json"
    env = {**os.environ, "JOBCAST_CONFIG": str(config), "TERM": "xterm-256color"}
    terminal = Terminal([*JOBCAST, "login", "--url", "http://127.0.0.1:9"], env)
    try:
        terminal.expect("API key:")
        terminal.type("\x04")
        assert terminal.proc.wait(timeout=15) == 2
        said = " ".join(terminal.rest().split())
        assert "error: no key given (the input ended at the prompt): nothing saved." in said
    finally:
        terminal.close()
    assert not config.exists()


def test_login_with_an_address_that_is_not_a_url_names_the_option() -> None:
    # It said "base_url is '127.0.0.1:18400'", the Python client's parameter.
    done = CliRunner().invoke(cli, ["login", "--url", "127.0.0.1:18400", "--key", "jc_x"])
    assert done.exit_code == 2, done.output
    assert done.stderr == (
        "error: --url must start with http:// or https:// (got '127.0.0.1:18400').\n"
    )
    from_env = CliRunner().invoke(cli, ["login", "--key", "jc_x"], env={"JOBCAST_URL": "host:1"})
    assert from_env.exit_code == 2, from_env.output
    assert "JOBCAST_URL must start with http:// or https:// (got 'host:1')." in from_env.stderr


def test_watch_refuses_a_since_that_is_not_a_seq_before_connecting(stack: ClientStack) -> None:
    # The server refused it (exit 3) once connected, as if the request were at fault.
    for since in ("garbage", "1732760000123", "1-2-3", "-1-0", f"{2**64}-0"):
        done = jobcast(stack, "watch", "user.me", "--since", since)
        assert done.exit_code == 2, (since, done.output)
        assert done.stderr == (
            f"error: --since must be an event's seq, <ms>-<n> (e.g. 1732760000123-0): got "
            f"{since!r}.\n"
        )


def test_market_fills_lists_each_side_its_own_fills(stack: ClientStack) -> None:
    # SOL-USD: the package's stack is shared, and its ETH-USD tape is read whole elsewhere
    # (tests/client/test_orders.py); this pair leaves no resting order behind.
    (seller, _), (buyer, _), (idle, _) = (stack.new_key(n) for n in ("seller", "buyer", "idle"))
    with Client(stack.url, seller) as sells, Client(stack.url, buyer) as buys:
        sold = sells.place("SOL-USD", "sell", 3, "1234.55")
        bought = buys.place("SOL-USD", "buy", 3, "1234.55")  # takes it all: the book is as before
        wait_for(lambda: buys.order(bought.id).status == "filled", 30, "the match")
    for key, order, side in ((seller, sold, "sell"), (buyer, bought, "buy")):
        shown = jobcast(stack, "market", "fills", "SOL-USD", JOBCAST_API_KEY=key)
        assert shown.exit_code == 0, shown.output
        rows = [line.split("│")[1:-1] for line in shown.stdout.splitlines() if order.id in line]
        assert [[cell.strip() for cell in row][2:] for row in rows] == [
            [side, "1234.55", "3", order.id, "buy"]
        ]
        as_json = jobcast(stack, "market", "fills", "SOL-USD", "--json", JOBCAST_API_KEY=key)
        fills = [f for f in json.loads(as_json.stdout)["fills"] if f["order_id"] == order.id]
        assert [(f["side"], f["quantity"]) for f in fills] == [(side, 3)]
    none = jobcast(stack, "market", "fills", "SOL-USD", JOBCAST_API_KEY=idle)
    assert (none.exit_code, none.stdout) == (0, "")
    assert none.stderr.strip() == "no fills of yours among the last 50 trades"


def test_submit_of_a_missing_file_or_a_directory_says_so_and_exits_2(tmp_path: Path) -> None:
    # Both showed a traceback (FileNotFoundError, IsADirectoryError) and exited 1: the argument
    # had become a str for `-`, and typer checks `exists` and `dir_okay` on a Path only.
    missing = str(tmp_path / "nope.csv")
    for named, said in ((missing, "does not exist"), (str(tmp_path), "is a directory")):
        # Wide enough for any temporary path: the error's box wraps at the terminal's width,
        # and a path cut across two lines ("no pe.csv") is not the path.
        wide = {"JOBCAST_API_KEY": "jc_x", "COLUMNS": "1000"}
        done = CliRunner().invoke(cli, ["submit", named, "--wait"], env=wide)
        assert done.exit_code == 2, done.output
        shown = " ".join(done.stderr.replace("│", " ").split())
        assert f"'{named}' {said}" in shown, shown
        assert "Traceback" not in done.output


def test_submit_takes_a_file_that_is_not_a_regular_one(tmp_path: Path) -> None:
    # `<(gunzip -c t.csv.gz)` names a pipe, /dev/fd/N: it exists and is no directory, so it is
    # uploaded (here to an address where nothing answers: exit 5, past the argument's check).
    nowhere = {"JOBCAST_API_KEY": "jc_x", "JOBCAST_URL": "http://127.0.0.1:9"}
    done = CliRunner().invoke(cli, ["submit", os.devnull], env=nowhere)
    assert done.exit_code == 5, done.output
    assert "Nothing answers at http://127.0.0.1:9" in done.stderr
