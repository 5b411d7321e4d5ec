"""What a reviewer running real files saw, end to end through an api and a files worker: values
shown as pandas shows them, and failures that say what the file is."""

from __future__ import annotations

import bz2
import json
import lzma
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobcast.schemas import ProfileResult
from tests.conftest import SharedStack, module_stack
from tests.workers.files.support import JobsClient, await_terminal

fidelity_stack = module_stack(worker_queues="files")


def outcome(stack: SharedStack, path: Path, params: dict[str, Any] | None = None) -> Any:
    """The job's result once it succeeded, or its error once it failed."""
    jobs = JobsClient(stack.url, stack.new_key("reviewer")[0])
    try:
        job_id = jobs.submit_ok(path, json.dumps(params or {}))
        if await_terminal(stack.redis, job_id)["type"] == "job.failed":
            return jobs.job(job_id)["error"]
        return jobs.result(job_id)
    finally:
        jobs.http.close()


def column(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in result["profile"] if c["name"] == name)


def test_a_zoned_parquet_column_is_profiled_in_its_zone_as_its_aggregate_and_pandas_show_it(
    fidelity_stack: SharedStack, tmp_path: Path
) -> None:
    path = tmp_path / "paris.parquet"
    ts = pd.to_datetime(["2024-01-01", None, "2024-03-01"]).tz_localize("Europe/Paris")
    pd.DataFrame({"g": ["a", "a", "a"], "ts": ts}).to_parquet(path)
    aggregate = {"operation": "aggregate", "group_by": ["g"], "metrics": {"ts": ["min"]}}

    profiled = column(outcome(fidelity_stack, path), "ts")
    aggregated = outcome(fidelity_stack, path, aggregate)["table"][0]["ts_min"]

    assert (profiled["min"], profiled["max"]) == (
        "2024-01-01T00:00:00+01:00",
        "2024-03-01T00:00:00+01:00",
    )
    assert pd.Timestamp(profiled["min"]) == ts.min()  # the instant and the zone's offset
    assert aggregated.endswith("+01:00")
    assert pd.Timestamp(aggregated) == ts.min()


def test_parquet_decimal_columns_have_pandas_min_and_max_exactly(
    fidelity_stack: SharedStack, tmp_path: Path
) -> None:
    # Neighbouring IDs share one float64 (1.2345678901234567e19), and 2504125731.74 was cast
    # to 2504125731.7400002: the min and max were those floats.
    ids = [Decimal("12345678901234567892"), Decimal("12345678901234567891"), None]
    money = [Decimal("2504125731.74"), Decimal("-9804947819.21"), Decimal("0.07")]
    path = tmp_path / "ledger.parquet"
    ids_type, money_type = pa.decimal128(20, 0), pa.decimal128(12, 2)
    table = pa.table({"id": pa.array(ids, ids_type), "amount": pa.array(money, money_type)})
    pq.write_table(table, path)
    frame = pd.read_parquet(path)

    result = outcome(fidelity_stack, path)
    identifier, amount = column(result, "id"), column(result, "amount")

    assert (identifier["min"], identifier["max"]) == (frame["id"].min(), frame["id"].max())
    assert type(identifier["min"]) is int  # every digit, as the aggregate writes such a key
    assert Decimal(repr(amount["min"])) == frame["amount"].min()
    assert Decimal(repr(amount["max"])) == frame["amount"].max()
    assert amount["50%"] == 0.07
    # The client's model reads the answer with every digit.
    profile = ProfileResult.model_validate(result).profile
    assert profile[0].max == 12345678901234567892


def test_csv_times_with_offsets_are_profiled_with_an_offset(
    fidelity_stack: SharedStack, tmp_path: Path
) -> None:
    path = tmp_path / "dates_tz.csv"
    path.write_bytes(b"d,v\n2024-01-31T12:00:00Z,1\n2024-01-31T12:00:00+02:00,2\n")

    d = column(outcome(fidelity_stack, path), "d")

    assert (d["min"], d["max"]) == ("2024-01-31T10:00:00+00:00", "2024-01-31T12:00:00+00:00")


def test_a_time_of_day_column_is_profiled_as_times_as_its_aggregate_takes_them(
    fidelity_stack: SharedStack, tmp_path: Path
) -> None:
    path = tmp_path / "shifts.csv"
    path.write_bytes(b"shift,start,v\nA,08:00,1\nA,09:30,2\nB,22:15:00,3\n")
    aggregate = {"operation": "aggregate", "group_by": ["shift"], "metrics": {"start": ["min"]}}

    start = column(outcome(fidelity_stack, path), "start")
    aggregated = outcome(fidelity_stack, path, aggregate)["table"]

    assert start["type"] == "time"
    assert (start["count"], start["distinct"], start["min"], start["max"]) == (
        3,
        3,
        "08:00:00",
        "22:15:00",
    )
    assert [t["value"] for t in start["top"]] == ["08:00:00", "09:30:00", "22:15:00"]
    assert [row["start_min"] for row in aggregated] == ["08:00:00", "22:15:00"]


@pytest.mark.parametrize(
    ("name", "body", "code", "said"),
    [
        ("sales.csv.bz2", bz2.compress(b"city,amount\nParis,10\n"), "unrecognized_format", "bzip2"),
        ("sales.csv.xz", lzma.compress(b"city,amount\nParis,10\n"), "unrecognized_format", "xz"),
        ("u.tsv", "name\tamount\nA\t1\n".encode("utf-16-le"), "invalid_encoding", "utf-16-le"),
    ],
    ids=["bzip2", "xz", "utf-16-without-bom"],
)
def test_a_file_with_nul_bytes_is_told_what_it_is_not_just_binary(
    fidelity_stack: SharedStack, tmp_path: Path, name: str, body: bytes, code: str, said: str
) -> None:
    path = tmp_path / name
    path.write_bytes(body)

    error = outcome(fidelity_stack, path)

    assert error["code"] == code
    assert said in error["message"]
    assert "NUL" not in error["message"]


def test_a_parquet_file_without_rows_is_not_told_about_a_header(
    fidelity_stack: SharedStack, tmp_path: Path
) -> None:
    path = tmp_path / "zero.parquet"
    pd.DataFrame({"a": pd.Series([], dtype="int64")}).to_parquet(path)

    error = outcome(fidelity_stack, path)

    assert error["code"] == "no_rows"
    assert "header" not in error["message"]


def test_a_german_export_with_thousands_dots_is_not_read_1000_times_off(
    fidelity_stack: SharedStack, tmp_path: Path
) -> None:
    # `1.234` was taken for proof of a decimal point: Menge 1.234 (a thousand and more), Preis
    # text. Now the decimal comma holds, and `1.234`, whose thousands dot is not read, is text
    # as pandas reads it with decimal=",": never a number 1000 times too small.
    path = tmp_path / "export.csv"
    path.write_bytes(b"Artikel;Menge;Preis\r\nA;1.234;2,50\r\nB;500;3,00\r\nC;2.000;1,25\r\n")

    result = outcome(fidelity_stack, path)

    expected = pd.read_csv(path, sep=";", decimal=",")
    menge, preis = column(result, "Menge"), column(result, "Preis")
    assert menge["type"] == "string"
    assert [t["value"] for t in menge["top"]] == list(expected["Menge"])
    assert preis["type"] == "float"
    assert (preis["min"], preis["max"]) == (expected["Preis"].min(), expected["Preis"].max())
