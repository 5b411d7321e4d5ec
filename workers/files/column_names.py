"""A table's column names from its first row, made unique as pandas makes them."""

from __future__ import annotations


def column_names(first_row: list[str], header: bool) -> tuple[str, ...]:
    """pandas' names: `0, 1, ...` without a header; else `Unnamed: i` for a blank one and
    `a, a.1, a.2` for repeats."""
    if not header:
        return tuple(str(i) for i in range(len(first_row)))
    raw = [name.lstrip("\ufeff") or f"Unnamed: {i}" for i, name in enumerate(first_row)]
    seen: dict[str, int] = {}
    names: list[str] = []
    taken = set(raw)
    for name in raw:
        if name not in seen:
            seen[name] = 0
            names.append(name)
            continue
        candidate = name
        while candidate in taken:
            seen[name] += 1
            candidate = f"{name}.{seen[name]}"
        taken.add(candidate)
        names.append(candidate)
    return tuple(names)
