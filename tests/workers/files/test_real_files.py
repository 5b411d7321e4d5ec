"""Real files (tests/data/real, origins in its README) profile as pandas reads them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from jobcast.jobs.params import JobParams
from tests.workers.files.pandas_compare import LIMITS, assert_matches_pandas, run_profile
from workers.files.runner import Hooks, run_job

REAL = Path(__file__).parents[2] / "data" / "real"

#: file -> how pandas reads it (the arguments a user would have to find), and what we report.
CASES: dict[str, tuple[Callable[[Path], pd.DataFrame], str, str | None]] = {
    "debian.csv": (pd.read_csv, "csv", "utf-8"),  # short rows: fewer fields than the header
    "debian-cr.csv": (pd.read_csv, "csv", "utf-8"),  # bare CR line endings
    "ubuntu.csv": (pd.read_csv, "csv", "utf-8"),
    "seattle-weather.csv": (pd.read_csv, "csv", "utf-8"),
    "seattle-weather-eu.csv": (lambda p: pd.read_csv(p, sep=";", decimal=","), "csv", "utf-8"),
    "stocks.csv": (pd.read_csv, "csv", "utf-8"),
    "stocks-wide.csv": (pd.read_csv, "csv", "utf-8"),  # the header is years
    "us-employment.csv": (pd.read_csv, "csv", "utf-8"),
    "pcg64-testset-1.csv": (pd.read_csv, "csv", "utf-8"),  # metadata header, hex values
    "iso3166-cp1252.tsv": (lambda p: pd.read_csv(p, sep="\t", encoding="cp1252"), "tsv", "cp1252"),
    "iso3166-utf16.tsv": (lambda p: pd.read_csv(p, sep="\t", encoding="utf-16"), "tsv", "utf-16"),
    "iso3166-utf8bom.tsv": (lambda p: pd.read_csv(p, sep="\t"), "tsv", "utf-8"),
    "debian-nan.parquet": (pd.read_parquet, "parquet", None),  # NaN stored for missing floats
    "diamonds-v0.7.1.parquet": (pd.read_parquet, "parquet", None),  # pandas index stored
    "diamonds-some-named-index.parquet": (pd.read_parquet, "parquet", None),
    "stocks.xlsx": (lambda p: pd.read_excel(p, engine="calamine"), "spreadsheet", None),
    "ubuntu.ods": (lambda p: pd.read_excel(p, engine="calamine"), "spreadsheet", None),
}


@pytest.fixture
def real(tmp_path: Path) -> Callable[[str], Path]:
    def copy(name: str) -> Path:
        # A copy without its extension, as uploads are stored: the bytes decide the format.
        return Path(shutil.copy(REAL / name, tmp_path / "upload"))

    return copy


@pytest.mark.parametrize("name", list(CASES))
def test_real_file_profiles_as_pandas_reads_it(name: str, real: Callable[[str], Path]) -> None:
    read, kind, encoding = CASES[name]

    result = run_profile(real(name))

    assert (result["format"], result["encoding"]) == (kind, encoding)
    assert_matches_pandas(result, read(REAL / name))


@pytest.mark.parametrize(
    "name", ["iso3166-cp1252.tsv", "iso3166-utf16.tsv", "debian.csv", "stocks.xlsx"]
)
def test_real_file_converts_to_the_table_pandas_reads(
    name: str, real: Callable[[str], Path], tmp_path: Path
) -> None:
    read, _, _ = CASES[name]
    params = JobParams(operation="convert", to="parquet")
    out = tmp_path / "out.parquet"
    run_job(real(name), params, LIMITS, Hooks(), out)

    ours: Any = pq.read_table(out).to_pandas()
    theirs = read(REAL / name)
    assert list(ours.columns) == [str(c) for c in theirs.columns]
    for column in theirs.columns:
        left, right = ours[str(column)], theirs[column]
        if pd.api.types.is_numeric_dtype(right):
            assert left.astype(float).tolist() == pytest.approx(
                right.astype(float).tolist(), nan_ok=True
            )
        else:
            assert left.astype(str).tolist() == right.astype(str).tolist(), column
