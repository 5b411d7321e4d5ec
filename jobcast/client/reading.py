"""`Reading`: how the server is to read an uploaded table, when its own detection is not right."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Reading:
    """The job params that say how to read the file (`POST /jobs`); each left at its default
    is left to the server, which detects it."""

    #: False: the first line is data, not column names (they become `0`, `1`, ... as in pandas).
    header: bool = True
    #: A spreadsheet's sheet: its name, or its 0-based index.
    sheet: str | int | None = None
    #: A Python codec name such as `cp1252`.
    encoding: str | None = None
    #: The decimal separator of numbers.
    decimal: Literal[".", ","] | None = None

    def params(self) -> dict[str, Any]:
        """The params these set (none at its default)."""
        chosen: dict[str, Any] = {} if self.header else {"header": False}
        for name in ("sheet", "encoding", "decimal"):
            value = getattr(self, name)
            if value is not None:
                chosen[name] = value
        return chosen
