"""`jobcast whoami`: who the configured key acts for, and the limits it works within."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from jobcast.client_cli.common import client_session, console, print_json, tables_width
from jobcast.client_cli.fitting import Field, fitted_table
from jobcast.client_cli.summary import human_bytes
from jobcast.schemas import Limits, Me

EXAMPLE = "Example: jobcast whoami"

#: The limits as the table shows them: field, what it limits, its unit ("bytes" or a count).
LIMIT_ROWS = (
    ("submit_per_minute", "submit requests a minute", ""),
    ("submit_burst", "submit requests at once", ""),
    ("read_per_minute", "read requests a minute", ""),
    ("read_burst", "read requests at once", ""),
    ("orders_per_minute", "orders a minute (batches)", ""),
    ("orders_burst", "orders at once (batches)", ""),
    ("max_upload_bytes", "largest upload", "bytes"),
    ("stored_bytes", "stored files", "bytes"),
    ("concurrent_uploads", "uploads at once", ""),
    ("active_jobs", "file jobs queued or running", ""),
    ("running_file_jobs", "file jobs running while others wait", ""),
    ("open_orders", "open orders", ""),
    ("data_items", "data items", ""),
    ("ws_connections", "WebSocket connections", ""),
    ("ws_subscriptions", "channels per WebSocket", ""),
)


def whoami(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Show who your key acts for (principal, key id, admin) and the limits it works within."""
    with client_session(as_json) as client:
        me = client.me()
    if as_json:
        print_json(me)
        return
    console.print(identity(me), markup=False, highlight=False)  # a name may hold `[..]`
    console.print(limits_table(me.limits, tables_width()))


def identity(me: Me) -> str:
    admin = ", admin" if me.admin else ""
    return f"{me.name} (principal {me.id}, key {me.key_id}{admin})"


def limits_table(limits: Limits, width: int | None) -> Table:
    rows = []
    for field, label, unit in LIMIT_ROWS:
        value = int(getattr(limits, field))
        rows.append(
            [label, "no cap" if value == 0 else human_bytes(value) if unit else f"{value:,}"]
        )
    return fitted_table([Field("limit", text=True), Field("value")], rows, width)


def register(cli: typer.Typer) -> None:
    """Add this command to `cli` (jobcast.lazy_commands runs it)."""
    cli.command("whoami", epilog=EXAMPLE)(whoami)
