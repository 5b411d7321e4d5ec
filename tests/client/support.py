"""Tables and jobs for the client tests."""

from __future__ import annotations

from pathlib import Path

from jobcast.client import Client, ConflictError
from jobcast.schemas import Job


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


def cancelled_while_running(client: Client, path: Path, tries: int = 3) -> Job:
    """A job of `path` whose cancel landed before it ended. Such a job takes a fraction of a
    second; on a fast or loaded machine the cancel can come after it (a shared stack's worker
    ran a 50,000-row job to the end first), so a job that already ended is replaced by another
    (the 409 it got is the behaviour under test elsewhere)."""
    for _ in range(tries):
        job = client.submit_file(path)
        try:
            assert client.cancel(job.id).status in ("cancelled", "cancelling")
        except ConflictError as ended:
            if ended.code != "already_finished":
                raise
            continue
        return job
    raise AssertionError(f"every one of {tries} jobs ended before its cancel")
