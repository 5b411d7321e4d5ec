"""`jobcast login`: check a key against the server and save both in the user's config file."""

from __future__ import annotations

from contextlib import closing
from typing import Annotated

import typer

from jobcast.client import Client, errors
from jobcast.client.config import URL_ENV, config_path, local_api_url, save
from jobcast.client_cli.common import console, exit_code_for, report_error

EXAMPLE = "Example: jobcast login --url http://127.0.0.1:8000 (the key is asked for, hidden)"


def login(
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
    url = url or local_api_url()
    key = key or typer.prompt("API key", hide_input=True)
    try:
        with Client(url, key) as client, closing(client.jobs(page_size=1)) as jobs:
            next(jobs, None)  # proves that the URL and the key work
    except errors.JobcastError as exc:
        report_error(exc, as_json=False)
        raise typer.Exit(exit_code_for(exc)) from None
    path = save(url.rstrip("/"), key, config_path())
    console.print(f"Saved to {path} (mode 600).")
