"""`jobcast keys`: create, list and revoke API keys from the shell.

The commands' work is in `jobcast.keys_admin`, imported when one of them runs: it needs redis-py
and the server's Settings, which every other `jobcast` command would pay ~90 ms to import.
"""

from __future__ import annotations

from typing import Annotated

import typer

keys_cli = typer.Typer(help="Manage API keys.", no_args_is_help=True)


@keys_cli.command("create")
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


@keys_cli.command("list")
def list_() -> None:
    """Every key, with its principal and whether it is revoked."""
    from jobcast import keys_admin

    keys_admin.list_all()


@keys_cli.command("revoke")
def revoke(key_id: str) -> None:
    """Revoke a key by its id."""
    from jobcast import keys_admin

    keys_admin.revoke(key_id)
