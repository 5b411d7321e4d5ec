"""`jobcast keys`: create, list and revoke API keys from the shell.

The commands' work is in `jobcast.keys_admin`, imported when one of them runs: it needs redis-py
and the server's Settings, which every other `jobcast` command would pay ~90 ms to import.
"""

from __future__ import annotations

from typing import Annotated

import typer

keys_cli = typer.Typer(help="Manage API keys.", no_args_is_help=True)

#: The exit codes of `jobcast keys` and each of its commands (as the user commands' where they
#: mean the same, README.md): jobcast.keys_admin's refusals, typer's Ctrl-C, jobcast.entry's
#: output whose reader left.
EXIT_CODES = (
    "Exit codes: 0 done; 2 wrong arguments, no stack found, its Redis unreachable or a key "
    "secret that is not the cluster's; 3 no such key id; 4 Redis refused the password; "
    "130 interrupted (Ctrl-C); 141 the output's reader left before its end."
)


@keys_cli.command(
    "create",
    # Listed in `jobcast keys --help` as written: the docstring's line break showed there.
    short_help="Create a key, for a new principal or (--principal) an existing one.",
    epilog=f"Example: jobcast keys create --name alice (the key is the last line)\n\n{EXIT_CODES}",
)
def create(
    name: Annotated[
        str | None, typer.Option(help="Who the key is for (a new principal unless --principal).")
    ] = None,
    admin: Annotated[bool, typer.Option(help="May list and revoke keys.")] = False,
    principal: Annotated[
        str | None,
        typer.Option(help="Add the key to this existing principal (to rotate its keys)."),
    ] = None,
) -> None:
    """Create a key, for a new principal or (--principal) an existing one; the key is printed
    once and never stored."""
    from jobcast import keys_admin

    keys_admin.create(name, admin, principal)


@keys_cli.command("list", epilog=f"Example: jobcast keys list\n\n{EXIT_CODES}")
def list_() -> None:
    """Every key, with its principal and whether it is revoked."""
    from jobcast import keys_admin

    keys_admin.list_all()


@keys_cli.command("revoke", epilog=f"Example: jobcast keys revoke 3f2a9c1b7d4e\n\n{EXIT_CODES}")
def revoke(key_id: str) -> None:
    """Revoke a key by its id."""
    from jobcast import keys_admin

    keys_admin.revoke(key_id)


def register(cli: typer.Typer) -> None:
    """Add `jobcast keys` to `cli` (jobcast.lazy_commands runs it)."""
    cli.add_typer(
        keys_cli, name="keys", epilog=f"Example: jobcast keys create --name alice\n\n{EXIT_CODES}"
    )
