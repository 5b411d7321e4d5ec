"""Tables fitted to the terminal's width, as `kubectl get` and `gh` do it: ids, numbers and
statuses stay whole, free text (a file name, a reason) ends in "…", and when that is not enough
the least needed columns are left out, saying which. Folding every cell to fit made a narrow
terminal's tables unreadable (a status over three lines, a file name letter by letter).

Piped (no width to fit), every column is printed and every value whole, for a script."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console, JustifyMethod, RenderableType
from rich.markup import escape
from rich.table import Column, Table
from rich.text import Text

#: Columns a free-text cell keeps at least ("a-rather-l…"); narrower, a column is left out.
TEXT_FLOOR = 12

#: What a table that left columns out says under itself.
LEFT_OUT = "left out to fit: {}; --json or a wider terminal shows them"

#: Measures without a width of its own: a console of width `w` reports at most `w`.
MEASURING = Console(width=10_000)

Cell = RenderableType


@dataclass(frozen=True)
class Field:
    """A column of a fitted table."""

    header: str
    #: Free text, which may end in "…"; any other value is never cut (an id is copied from it).
    text: bool = False
    #: 0: always shown; the others are left out highest first when the table does not fit.
    drop: int = 0
    justify: JustifyMethod = "left"


def fitted_table(
    fields: Sequence[Field], rows: Sequence[Sequence[Cell]], width: int | None, **options: Any
) -> Table:
    """A table of `rows` no wider than `width` where it can be helped; None: every value whole."""
    if width is None:
        return _table(fields, rows, [None] * len(fields), options)
    natural = [_natural_width(i, field, rows) for i, field in enumerate(fields)]
    shown = _shown(fields, natural, width)
    kept = [fields[i] for i in shown]
    kept_natural = [natural[i] for i in shown]
    table = _table(
        kept,
        [[row[i] for i in shown] for row in rows],
        _widths(kept, kept_natural, width),
        options,
        crowded=_table_width(kept, _floors(kept, kept_natural)) > width,
    )
    left_out = [field.header for i, field in enumerate(fields) if i not in shown]
    if left_out:
        # Wrapped even on a console that leaves wrapping to the terminal (`make_console`): the
        # terminal would break its words.
        note = LEFT_OUT.format(", ".join(left_out))
        table.caption = Text(note, style="table.caption", no_wrap=False, overflow="fold")
    return table


def fitted_record(fields: Sequence[Field], row: Sequence[Cell], width: int | None) -> Table:
    """One record (`jobs show`): on a terminal, a field a line, its name and then its value, each
    value whole (folded over lines where the width is short) and an empty one left out; a one-row
    table left out columns and cut text at 80 columns with room to spare below. Piped (None), the
    one-row table, as a script reads `ls`."""
    if width is None:
        return fitted_table(fields, [row], None)
    record = Table.grid(Column(style="bold", no_wrap=True), Column(overflow="fold"), padding=(0, 2))
    for field, value in zip(fields, row, strict=True):
        if MEASURING.measure(value).maximum:
            record.add_row(_header(field), value)
    return record


def _natural_width(index: int, field: Field, rows: Sequence[Sequence[Cell]]) -> int:
    cells = [_header(field), *(row[index] for row in rows)]
    return max(MEASURING.measure(cell).maximum for cell in cells)


def _shown(fields: Sequence[Field], natural: list[int], width: int) -> list[int]:
    """The columns kept: all of them if the table fits with its text cut to `TEXT_FLOOR`, or
    fewer, the highest `drop` left out first."""
    shown = list(range(len(fields)))
    droppable = sorted((i for i, f in enumerate(fields) if f.drop), key=lambda i: -fields[i].drop)
    for leaving in droppable:
        floors = _floors([fields[i] for i in shown], [natural[i] for i in shown])
        if _table_width([fields[i] for i in shown], floors) <= width:
            break
        shown.remove(leaving)
    return shown


def _widths(fields: Sequence[Field], natural: list[int], width: int) -> list[int | None]:
    """Each text column its floor, plus what the whole values leave over, first come first
    served; the others their natural width (none: never cut)."""
    floors = _floors(fields, natural)
    spare = max(0, width - _table_width(fields, floors))
    widths: list[int | None] = []
    for field, floor, full in zip(fields, floors, natural, strict=True):
        given = min(full, floor + spare) if field.text else None
        spare -= (given - floor) if given is not None else 0
        widths.append(given)
    return widths


def _floors(fields: Sequence[Field], natural: list[int]) -> list[int]:
    return [_floor(field, n) for field, n in zip(fields, natural, strict=True)]


def _floor(field: Field, natural: int) -> int:
    return min(natural, TEXT_FLOOR) if field.text else natural


def _table_width(fields: Sequence[Field], widths: list[int]) -> int:
    columns = [Column(_header(f), width=w) for f, w in zip(fields, widths, strict=True)]
    return MEASURING.measure(Table(*columns)).maximum


def _table(
    fields: Sequence[Field],
    rows: Sequence[Sequence[Cell]],
    widths: Sequence[int | None],
    options: dict[str, Any],
    crowded: bool = False,
) -> Table:
    columns = (_column(f, w, crowded) for f, w in zip(fields, widths, strict=True))
    table = Table(*columns, **options)
    for row in rows:
        table.add_row(*row)
    return table


def _column(field: Field, width: int | None, crowded: bool) -> Column:
    if field.text and width is not None:  # fitted: one line, ending in "…" if it must
        return Column(
            _header(field), justify=field.justify, width=width, no_wrap=True, overflow="ellipsis"
        )
    # Folded only where nothing else fits (`crowded`: a terminal narrower than the columns
    # that are never left out): a value over two lines is still whole, where rich crops a
    # `no_wrap` cell without a mark (an id cut so named no job). Piped, the text goes on over
    # lines rather than be cut.
    wraps = crowded or field.text
    return Column(_header(field), justify=field.justify, no_wrap=not wraps, overflow="fold")


def _header(field: Field) -> str:
    # Escaped, as rich reads a header as markup: an aggregate's are the file's column names
    # (`[price]` was shown as nothing).
    return escape(field.header)
