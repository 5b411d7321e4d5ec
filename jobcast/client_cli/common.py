"""What every user command shares: the client, exit codes, error and JSON output."""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from jobcast.client import Client, errors
from jobcast.client.config import RUNNING_STACK_SOURCE, URL_ENV, ClientConfig, saved_source
from jobcast.client_cli.exit_codes import (
    EXIT_AUTH,
    EXIT_INTERRUPTED,
    EXIT_JOB_FAILED,
    EXIT_REFUSED,
    EXIT_TERMINATED,
    EXIT_TIMEOUT,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
)
from jobcast.client_cli.sigterm import sigterm_interrupts
from jobcast.console import make_console, table_width

#: What to check when nothing answers, in the commands' own terms: by where the address came
#: from, as it is the one to change (the hint named JOBCAST_URL when the user had set it, and
#: `jobcast up` when the address was a saved login's). Any other source: START_OR_GIVE.
START_OR_GIVE = (
    "Start it with `jobcast up` (or `make run`), or give its address: `jobcast login --url URL`, "
    "or JOBCAST_URL."
)
UNREACHABLE_HINTS = {
    URL_ENV: f"{URL_ENV} names it: start the API there, or set {URL_ENV} to where it runs (or "
    "unset it, for a saved login or a local `jobcast up`).",
    "--url": "Start the API there, or give where it runs with --url.",
    "saved": "It is the address `jobcast login` saved: start the API there, or save where it "
    f"runs with `jobcast login --url URL` ({URL_ENV} overrides it).",
    "running": "A `jobcast up` run from here left it (and leaves it behind if it was killed): "
    "is that stack still up? Start it again with `jobcast up`, or give an address: `jobcast "
    f"login --url URL`, or {URL_ENV}.",
}

#: Where the traded symbols are, in the commands' own terms, and where the server's answer
#: names its route instead (a book, quote or listing of an unknown symbol: 404).
SYMBOLS_HINT = "`jobcast market ls` lists the traded ones."
SYMBOLS_ROUTE = "GET /market lists them."


def _stalled(exc: errors.JobcastError) -> str:
    """A cut upload said plainly: a user on a flaky connection needs to know nothing was kept."""
    idle = exc.details.get("idle_timeout_s") if isinstance(exc.details, dict) else None
    quiet = f" for {idle:g} s" if isinstance(idle, (int, float)) else ""
    return (
        f"The upload stalled: nothing reached the server{quiet}, so it cut the upload; nothing "
        "was stored and no job was made. Check the connection and send the file again."
    )


def unreachable_hint(url_from: str | None) -> str:
    if url_from == saved_source():
        return UNREACHABLE_HINTS["saved"]
    if url_from is not None and url_from.startswith(RUNNING_STACK_SOURCE):
        return UNREACHABLE_HINTS["running"]
    return UNREACHABLE_HINTS.get(url_from or "", START_OR_GIVE)


def _in_cli_terms(exc: errors.JobcastError, url_from: str | None) -> str:
    """The server's message, with the command to run where it names a route or a fix."""
    if exc.code == "unreachable":
        return f"{exc.message} {unreachable_hint(url_from)}"
    if exc.code == "upload_stalled":
        return _stalled(exc)
    if SYMBOLS_ROUTE in exc.message:
        return exc.message.replace(SYMBOLS_ROUTE, SYMBOLS_HINT)
    if exc.code == "unknown_symbol":
        return f"{exc.message} {SYMBOLS_HINT}"
    return exc.message


console = make_console()  # piped: wide enough that a script reads every value
# One line per message whatever the width: rich cut them at 80 columns when stderr was a file or
# a pipe, and a log (or a script reading a request id) got broken lines.
err_console = Console(stderr=True, soft_wrap=True)


def tables_width() -> int | None:
    """The width to fit tables to: the terminal's, or None (piped: every value whole)."""
    return table_width(console)


def print_listing(table: Table, empty: str) -> None:
    """A list's table on stdout. An empty list prints nothing there, so a script counting lines
    counts 0, and says so on stderr: a header alone read as if the output had been cut off."""
    if table.rows:
        console.print(table)
    else:
        err_console.print(empty, highlight=False)


def exit_code_for(exc: errors.JobcastError) -> int:
    if isinstance(exc, errors.ConfigError):
        return EXIT_USAGE
    if isinstance(exc, (errors.JobFailedError, errors.JobCancelledError)):
        return EXIT_JOB_FAILED
    if isinstance(exc, errors.WaitTimeoutError):
        return EXIT_TIMEOUT
    if isinstance(exc, (errors.AuthenticationError, errors.PermissionDeniedError)):
        return EXIT_AUTH
    if isinstance(exc, (errors.UnavailableError, errors.RateLimitedError, errors.ServerError)):
        return EXIT_UNAVAILABLE
    return EXIT_REFUSED


@contextmanager
def client_session(as_json: bool = False) -> Iterator[Client]:
    """A Client for one command; a client error becomes its message and exit code, Ctrl-C
    exit 130 and SIGTERM, taking the same way out, 143. Either is recorded and raised at the
    next safe point (`Client.ctrl_c_recorded`), so none is lost between two calls."""
    config = None
    with sigterm_interrupts() as terminated:
        try:
            with Client() as client, client.ctrl_c_recorded():
                config = client.config
                yield client
        except errors.JobcastError as exc:
            report_error(exc, as_json, config)
            raise typer.Exit(exit_code_for(exc)) from None
        except KeyboardInterrupt:
            raise typer.Exit(EXIT_TERMINATED if terminated.is_set() else EXIT_INTERRUPTED) from None


def report_error(
    exc: errors.JobcastError, as_json: bool, config: ClientConfig | None = None
) -> None:
    """The error; one from the server also names the address asked and where it came from
    (a key sent to the wrong stack reads as a bad key otherwise)."""
    asked = asked_fields(exc, config) if config is not None else None
    if as_json:
        body = {
            "code": exc.code,
            "message": exc.message,
            "details": exc.details,
            "request_id": exc.request_id,
        }
        print(json.dumps({"error": body | ({"asked": asked} if asked else {})}, default=str))
        return
    said = _in_cli_terms(exc, config.url_from if config is not None else None)
    line = f"[red]error[/red] [bold]{exc.code}[/bold]: {escape(said)}"
    if exc.request_id:
        line += f" [dim](request id {exc.request_id})[/dim]"
    err_console.print(line, highlight=False)
    if asked:
        line = asked_line(asked, key_refused(exc))
        err_console.print(escape(line), highlight=False)


def asked_fields(exc: errors.JobcastError, config: ClientConfig) -> dict[str, str | None] | None:
    """The address asked, where it and the key came from and, after a refused key, why the key
    may not be that server's; None for an error found before anything was sent."""
    if not _from_server(exc):
        return None
    return {
        "url": config.base_url,
        "url_from": config.url_from,
        "key_from": config.key_from,
        "hint": config.pairing if key_refused(exc) else None,
    }


def key_refused(exc: errors.JobcastError) -> bool:
    return isinstance(exc, (errors.AuthenticationError, errors.PermissionDeniedError))


def asked_line(asked: dict[str, str | None], refused: bool) -> str:
    """After a refused key, also where the key came from: a stale key exported in the shell is
    the commonest cause. The hint, when there is one, names it already."""
    line = f"  asked {asked['url']} ({asked['url_from']})"
    if refused and asked["hint"]:
        return f"{line}; {asked['hint']}"
    if refused and asked["key_from"]:
        return f"{line}; key from {asked['key_from']}"
    return line


def _from_server(exc: errors.JobcastError) -> bool:
    if exc.local:  # refused before anything was sent
        return False
    # The job's outcome or the wait's end: about the job, not the address or the key asked.
    outcomes = (errors.JobFailedError, errors.JobCancelledError, errors.WaitTimeoutError)
    return not isinstance(exc, outcomes)


def print_json(value: Any) -> None:
    """One JSON document on stdout (models by their field aliases, as the API sends them)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True)
    sys.stdout.write(json.dumps(value, default=str) + "\n")
    sys.stdout.flush()


def fail_usage(message: str) -> NoReturn:
    """End the command on a wrong argument found before any request: its message, exit 2."""
    # Messages often name what the user typed (a path like `data[1].csv`): text, not markup.
    err_console.print(f"[red]error[/red]: {escape(message)}", highlight=False)
    raise typer.Exit(EXIT_USAGE)


def flowing_help(command: Callable[..., object]) -> str:
    """A command's docstring for `--help`, each paragraph one flowing line: typer joins the
    first paragraph's lines but keeps the line breaks of the others, so a paragraph wrapped in
    the source read as broken lines."""
    paragraphs = inspect.cleandoc(command.__doc__ or "").split("\n\n")
    return "\n\n".join(" ".join(paragraph.split("\n")) for paragraph in paragraphs)
