"""`jobcast up`: the whole stack on this machine, and the banner that says where it is."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer
from rich.markup import escape

from jobcast.console import make_console

if TYPE_CHECKING:
    from jobcast.launcher import Stack
    from jobcast.settings import Settings

# The launcher (Celery's config, kombu) and Settings (pydantic-settings) are imported when `up`
# runs: `jobcast up --help` need not pay for them.

console = make_console()

#: `jobcast up`'s exit codes, its own: the launcher's (jobcast.launcher.run) and this command's.
UP_EXIT_CODES = (
    "Exit codes: 0 stopped (Ctrl-C, SIGTERM or a closed terminal); 1 it could not start (a port "
    "in use, Redis unreachable, ...) or a process it runs died; 2 a setting that cannot be read, "
    "or a secret missing or insecure; 4 Redis refused the password."
)


def up(
    workers: Annotated[int, typer.Option(min=1, help="Pool processes per queue worker.")] = 1,
    api_processes: Annotated[int, typer.Option(min=1, help="uvicorn worker processes.")] = 1,
    api_port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="API port (default from settings).")
    ] = None,
    flower_port: Annotated[int | None, typer.Option(min=1, max=65535, help="Flower port.")] = None,
    redis_port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="Embedded Redis port (0: free).")
    ] = None,
    dev: Annotated[
        bool, typer.Option(help="Dev mode: generated secrets and a dev API key.")
    ] = True,
    demo: Annotated[
        bool, typer.Option(help="Run a small market maker so a few order books trade.")
    ] = False,
    ha: Annotated[
        bool,
        typer.Option(help="Embedded Redis as a Sentinel group: primary, replica, 3 sentinels."),
    ] = False,
) -> None:
    """Start Redis (embedded unless JOBCAST_REDIS_URL is set), workers, Flower and the API."""
    # Python's own stdout, not the one that ends the command once its reader has gone
    # (jobcast.entry): the stack runs on when `tee` ends first at a Ctrl-C, and the launcher
    # says its lines where it still can (launcher._say).
    sys.stdout.flush()
    sys.stdout = sys.__stdout__
    from jobcast.launcher import Stack, UpOptions, run
    from jobcast.settings import ConfigurationError, InsecureSettingsError, load_settings
    from jobcast.unknown_settings import unknown_variable_warnings

    for warning in unknown_variable_warnings(os.environ):  # its children say it in their logs
        typer.echo(f"jobcast warning: {warning}", err=True)
    overrides = {"api_port": api_port, "flower_port": flower_port, "redis_port": redis_port}
    try:
        settings = load_settings().replace(
            dev=dev, **{k: v for k, v in overrides.items() if v is not None}
        )
        # Dev mode needs none: `run` generates them if it starts. The embedded Redis needs one.
        embedded = not (settings.redis_url or settings.sentinels)
        settings.require_secrets(("redis_password",) if embedded else ())
    except (ConfigurationError, InsecureSettingsError) as exc:
        # On stderr, as the warnings above and an api or worker started by hand say it; plain,
        # since rich would read a value such as `[abc]` in the message as markup.
        typer.echo(f"jobcast error: {exc}", err=True)
        raise typer.Exit(2) from exc
    stack = Stack(
        settings, UpOptions(workers=workers, api_processes=api_processes, demo=demo, ha=ha)
    )
    raise typer.Exit(run(stack, announce))


def announce(stack: Stack) -> None:
    """The banner: one `label  value` line per address and credential, so a script can read it."""
    s = stack.settings
    key = stack.dev_api_key
    api_url = escape(stack.api_url)
    # Each value escaped: a data directory (`~/jobcast[test]`) or a user name is text, not markup.
    lines = [
        "[bold green]Jobcast is up[/bold green]",
        f"  App              {api_url}/   (sign in with the API key below)",
        f"  API              {api_url}   (docs: {api_url}/docs)",
        f"  Flower           {escape(stack.flower_url)}",
        f"  Flower user      [bold]{escape(s.flower_user)}[/bold]",
        f"  Flower password  {_flower_password(stack)}",
        f"  Redis            {escape(_redis_line(s))}",
        f"  API key          [bold]{escape(key)}[/bold]   (dev, admin: send as `Authorization: "
        "Bearer <key>`)"
        if key
        else "  API key          create one with `jobcast keys create --name NAME`",
        f"  Logs             {escape(str(stack.logs))}/",
        "  Ctrl-C stops everything.",
    ]
    console.print("\n".join(lines), highlight=False)


def _flower_password(stack: Stack) -> str:
    # One the operator set is theirs to know: named, not printed into whatever keeps the output.
    if "flower_password" in stack.generated_secrets:
        return f"[bold]{escape(stack.settings.secret('flower_password'))}[/bold]"
    return "(JOBCAST_FLOWER_PASSWORD)"


def _redis_line(settings: Settings) -> str:
    from jobcast.settings import Settings
    from jobcast.stack_files import redis_url_file

    configured = Settings()
    if settings.sentinels:
        where = "external" if configured.sentinels else "embedded"
        return f"{where}, Sentinel: {settings.redis_sentinels}"
    if configured.redis_url:
        return "external"
    # Where a process added by hand connects (README, Scaling out); the URL with its password
    # is in the data directory, not on the screen.
    address = urlsplit(settings.redis_url or "")
    return f"embedded, {address.hostname}:{address.port}   (its URL: {redis_url_file(settings)})"


def register(cli: typer.Typer) -> None:
    """Add `up` to `cli` (jobcast.lazy_commands runs it)."""
    cli.command(
        epilog="Example: jobcast up --demo (then open the App address it prints); Ctrl-C stops "
        f"it.\n\n{UP_EXIT_CODES}"
    )(up)
