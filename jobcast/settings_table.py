"""The README's configuration table, generated from `Settings` so the two cannot drift."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic_core import PydanticUndefined

from jobcast.settings import Settings

BEGIN = "<!-- settings-table:begin -->"
END = "<!-- settings-table:end -->"


def _default(name: str) -> str:
    field = Settings.model_fields[name]
    if field.default_factory is not None:
        return f"`{field.default_factory()!r}`"  # type: ignore[call-arg]
    if field.default is PydanticUndefined or field.default is None:
        return "—"
    return f"`{field.default}`"


def markdown() -> str:
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        rows.append(f"| `JOBCAST_{name.upper()}` | {_default(name)} | {field.description} |")
    return "\n".join([BEGIN, *rows, END])


def write_into(path: Path) -> None:
    """Replace the table between the markers in `path` (the README)."""
    text = path.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    path.write_text(text[:start] + markdown() + text[end:])


def print_settings_table(
    write: Annotated[Path | None, typer.Option(help="Update the table in this file.")] = None,
) -> None:
    """Print the configuration table that README.md carries (or update it in place)."""
    if write is None:
        typer.echo(markdown())
    else:
        write_into(write)


def register(cli: typer.Typer) -> None:
    """Add `jobcast settings-table` to `cli`: a maintainer's command, which README.md names."""
    cli.command("settings-table", hidden=True)(print_settings_table)
