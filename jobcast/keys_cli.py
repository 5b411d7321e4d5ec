"""`jobcast keys`: create, list and revoke API keys from the shell."""

from __future__ import annotations

from typing import Annotated

import redis
import typer
from rich.console import Console
from rich.table import Table

from jobcast.keys import create_key, list_keys, revoke_key
from jobcast.launcher import running_redis_url
from jobcast.settings import Settings

keys_cli = typer.Typer(help="Manage API keys.", no_args_is_help=True)
console = Console()


def _connect() -> tuple[Settings, redis.Redis]:
    settings = Settings()
    url = settings.redis_url or running_redis_url(settings)
    if url is None:
        console.print(
            "[red]jobcast:[/red] set JOBCAST_REDIS_URL, or start the stack with `jobcast up`."
        )
        raise typer.Exit(2)
    if settings.key_secret is None:
        settings = settings.replace(key_secret=_dev_key_secret(settings))
    return settings, redis.Redis.from_url(url, decode_responses=True)


def _dev_key_secret(settings: Settings) -> str:
    from jobcast.launcher import load_dev_secrets

    dev = load_dev_secrets(settings.replace(dev=True))
    return dev.secret("key_secret")


@keys_cli.command("create")
def create(
    name: Annotated[str, typer.Option(help="Who the key is for.")],
    admin: Annotated[bool, typer.Option(help="May list and revoke keys.")] = False,
) -> None:
    """Create a principal and its key; the key is printed once and never stored."""
    settings, client = _connect()
    raw, info = create_key(client, settings.secret("key_secret"), name, admin=admin)
    console.print(f"key id {info.key_id}, principal {info.principal_id}")
    typer.echo(raw)


@keys_cli.command("list")
def list_() -> None:
    """Every key, with its principal and whether it is revoked."""
    _, client = _connect()
    table = Table("key id", "principal", "name", "admin", "revoked")
    for key in list_keys(client):
        table.add_row(key.key_id, key.principal_id, key.name, str(key.admin), str(key.revoked))
    console.print(table)


@keys_cli.command("revoke")
def revoke(key_id: str) -> None:
    """Revoke a key by its id."""
    _, client = _connect()
    if not revoke_key(client, key_id):
        console.print(f"[red]no key with id {key_id}[/red]")
        raise typer.Exit(1)
    console.print(f"revoked {key_id}")
