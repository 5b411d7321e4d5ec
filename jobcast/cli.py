"""The `jobcast` command: its commands by name, each module imported only to run its command."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from jobcast.client_cli.exit_codes import USER_EXIT_CODES_HELP
from jobcast.lazy_commands import LazyCommand

if TYPE_CHECKING:
    from typer._click import Command, Context

#: Every command, in `jobcast --help`'s order, with the line it shows there (a test keeps each
#: line its command's own): the commands' modules load the client, or the launcher, which cost
#: every run, `jobcast --version` included, most of a second of CPU when loaded up front.
COMMANDS = (
    LazyCommand(
        "login",
        "jobcast.client_cli.login",
        "Save the API URL and key for the user commands (a file only you can read).",
    ),
    LazyCommand(
        "whoami",
        "jobcast.client_cli.whoami",
        "Show who your key acts for (principal, key id, admin) and the limits it works within.",
    ),
    LazyCommand(
        "submit",
        "jobcast.client_cli.submit",
        "Upload FILE as a file job; with --wait show its progress and result.",
    ),
    LazyCommand(
        "watch",
        "jobcast.client_cli.watch",
        "Print every event of CHANNELS as one JSON line each, until interrupted.",
    ),
    LazyCommand(
        "chat",
        "jobcast.client_cli.chat",
        "Join ROOM: see its recent history and who is there, then talk.",
    ),
    LazyCommand(
        "up",
        "jobcast.up_cli",
        "Start Redis (embedded unless JOBCAST_REDIS_URL is set), workers, Flower and the API.",
    ),
    LazyCommand("keys", "jobcast.keys_cli", "Manage API keys."),
    LazyCommand("jobs", "jobcast.client_cli.jobs", "Your file jobs."),
    LazyCommand("orders", "jobcast.client_cli.orders", "Your orders."),
    LazyCommand(
        "market", "jobcast.client_cli.market", "Market data: symbols, books, trades and your fills."
    ),
    LazyCommand("settings-table", "jobcast.settings_table", hidden=True),  # README.md names it
)

#: Names users try for a command, with the command and what it does (`--help` lists ours only).
OTHER_NAMES = {"tail": ("watch", "it follows channels")}


class JobcastGroup(TyperGroup):
    """`jobcast`'s commands (COMMANDS), and a way forward for a name from OTHER_NAMES."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for command in COMMANDS:
            self.add_command(command)

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        if args and args[0] in OTHER_NAMES:
            command, what = OTHER_NAMES[args[0]]
            ours = shlex.join(["jobcast", command, *args[1:]])
            ctx.fail(f"No such command {args[0]!r}. Use `{ours}` ({what}).")
        return super().resolve_command(ctx, args)


cli = typer.Typer(
    cls=JobcastGroup,
    help="Jobcast: real-time jobs on FastAPI, Celery and Redis.",
    no_args_is_help=True,
    epilog=USER_EXIT_CODES_HELP,
)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"jobcast {version('jobcast')}")
        raise typer.Exit()


@cli.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass
