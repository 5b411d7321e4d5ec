"""What a CSV sample's values say about reading them: the decimal mark, and the columns of hex
text that must stay text."""

from __future__ import annotations

import re

_HEX = re.compile(r"^\s*[+-]?0[xX][0-9a-fA-F]+\s*$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_DECIMAL_POINT = re.compile(r"^[+-]?\d*\.\d+$")
#: A number a decimal-comma export writes with a thousands dot (`1.234`, `12.000`): beside
#: decimal commas it is no decimal point. `0.125` is no thousands grouping.
_THOUSANDS_DOTS = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+$")


def sniff_decimal(rows: list[list[str]], delimiter: str) -> str:
    """ "," when `;`-separated numbers are written `1,5` (spreadsheets in most of Europe), and
    none `1.5` other than as thousands (`1.234`)."""
    if delimiter != ";":
        return "."
    cells = [cell.strip() for row in rows for cell in row]
    # `1.234` beside `2,50` is a thousand (German exports): read as a decimal point it made
    # the decimal "." and so numbers 1000 times too small, and `2,50` text.
    points = (c for c in cells if _DECIMAL_POINT.match(c) and not _THOUSANDS_DOTS.match(c))
    if any(_DECIMAL_COMMA.match(c) for c in cells) and not any(points):
        return ","
    return "."


def hex_columns(names: tuple[str, ...], rows: list[list[str]]) -> tuple[str, ...]:
    """The columns with a value written `0x1F`: pyarrow would parse them as integers, pandas
    keeps the text."""
    return tuple(
        name for i, name in enumerate(names) if any(_HEX.match(r[i]) for r in rows if i < len(r))
    )
