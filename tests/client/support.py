"""Tables for the client tests."""

from __future__ import annotations

from pathlib import Path


def write_table(path: Path, rows: int) -> Path:
    """A CSV of `rows` rows (~30 bytes each): with 64 KB batches, many batches."""
    lines = ["id,name,amount,city"] + [
        f"{i},name{i % 97},{i * 0.5},city{i % 13}" for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def city_totals(rows: int) -> dict[str, tuple[float, int]]:
    """What pandas' groupby("city")["amount"].agg(["sum", "count"]) gives for `write_table`."""
    totals: dict[str, tuple[float, int]] = {}
    for i in range(rows):
        total, count = totals.get(f"city{i % 13}", (0.0, 0))
        totals[f"city{i % 13}"] = (total + i * 0.5, count + 1)
    return totals


def write_ragged(path: Path) -> Path:
    """A CSV whose third row has one field too many: the job fails as `ragged_rows`."""
    path.write_text("a,b\n1,2\n3,4,5\n")
    return path
