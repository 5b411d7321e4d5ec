"""`jobcast login`: check a key against the server and save both in the user's config file."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated
from urllib.parse import urlsplit

import typer

from jobcast.client import Client, errors
from jobcast.client.config import (
    EXAMPLE_URL,
    URL_ENV,
    ClientConfig,
    config_path,
    is_http_url,
    local_api,
    save,
)
from jobcast.client_cli.common import (
    console,
    err_console,
    exit_code_for,
    fail_usage,
    report_error,
)
from jobcast.client_cli.exit_codes import (
    EXIT_INTERRUPTED,
)
from jobcast.client_cli.whoami import identity

EXAMPLE = "Example: jobcast login --url http://127.0.0.1:8000 (the key is asked for, hidden)"


def login(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(
            envvar=URL_ENV,
            help="The API's base URL. Default: where a `jobcast up` running from this directory "
            "serves it, else by JOBCAST_API_HOST and JOBCAST_API_PORT (http://127.0.0.1:8000 "
            "when unset).",
        ),
    ] = None,
    key: Annotated[str | None, typer.Option(help="API key (asked for when missing).")] = None,
) -> None:
    """Save the API URL and key for the user commands (a file only you can read).

    JOBCAST_URL and JOBCAST_API_KEY, when set, override what is saved.
    """
    url, url_from = (url, _given_as(ctx)) if url else local_api()
    _check_url(url, url_from)
    if key is not None and not key.strip():  # else the client's key from elsewhere was saved
        fail_usage("--key is blank: give the key, or leave --key out to be asked for it.")
    key_from = "--key" if key else "the prompt"
    key = key or _ask_key()
    try:
        with Client(url, key) as client:
            me = client.me()  # proves that the URL and the key work
    except errors.JobcastError as exc:
        report_error(exc, as_json=False, config=ClientConfig(url, key, url_from, key_from))
        raise typer.Exit(exit_code_for(exc)) from None
    path = save(url.rstrip("/"), client.config.require_key(), config_path())  # the key sent
    said = f"Signed in as {identity(me)}. Saved to {path} (mode 600)."
    console.print(said, markup=False, highlight=False)


def _ask_key() -> str:
    if not sys.stdin.isatty():
        return _piped_key()
    key = ""
    while not key.strip():  # an empty line asks again
        key = _prompted_key()
    return key.strip()


def _prompted_key() -> str:
    """One line typed at a hidden prompt. Ctrl-C is an interruption (130); Ctrl-D, the input
    ended with no key, is a usage error (2), as an empty pipe is: click's prompt made both
    "Aborted!", and then both an interruption."""
    try:
        return getpass.getpass("API key: ")
    except KeyboardInterrupt:
        err_console.print("\nNo key given: nothing saved.")  # the prompt's line is still open
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except EOFError:
        err_console.print()
        fail_usage(
            "no key given (the input ended at the prompt): nothing saved. Type or paste the "
            "key and press Enter, or give --key."
        )


def _piped_key() -> str:
    """The first line piped (`printf '%s\\n' "$KEY" | jobcast login`): the hidden prompt printed
    Python's "GetPassWarning: Can not control echo on the terminal" there. None is a usage
    error, not an interruption: the likeliest cause is an unset variable in the pipe."""
    line = sys.stdin.readline()
    key = line.strip()
    if not key:
        said = "gave an empty line" if line else "ended"
        fail_usage(
            f"stdin {said}, not a key: nothing saved. Pipe the key in (is the variable you "
            "piped set?), give --key, or run `jobcast login` in a terminal to be asked."
        )
    return key


def _given_as(ctx: typer.Context) -> str:
    """How the user gave the address: --url, or JOBCAST_URL."""
    source = ctx.get_parameter_source("url")
    return URL_ENV if source is not None and source.name == "ENVIRONMENT" else "--url"


def _check_url(url: str, given: str) -> None:
    """A wrong address named as the user gave it, before any request: the client's own
    message names its Python parameter, `base_url`."""
    if urlsplit(url).scheme not in ("http", "https"):
        fail_usage(f"{given} must start with http:// or https:// (got {url!r}).")
    if not is_http_url(url):
        fail_usage(f"{given} is not an address like {EXAMPLE_URL} (got {url!r}).")


def register(cli: typer.Typer) -> None:
    """Add this command to `cli` (jobcast.lazy_commands runs it)."""
    cli.command("login", epilog=EXAMPLE)(login)
