"""The README's configuration table, generated from `Settings` so the two cannot drift."""

from __future__ import annotations

from pathlib import Path

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
