"""Excel and OpenDocument workbooks: first sheet by default, `sheet` to choose, bounded size."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from jobcast.jobs.params import JobParams
from tests.workers.files.pandas_compare import LIMITS, assert_matches_pandas, run_profile
from workers.files.errors import FileJobError
from workers.files.runner import JobLimits


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame(
            {"city": ["Oslo", "Lima", None, "Oslo"], "pop": [0.7, 10.1, 3.0, 0.7]}
        ).to_excel(writer, sheet_name="cities", index=False)
        pd.DataFrame(
            {
                "n": [1, 2, None, 4],
                "when": pd.to_datetime(["2024-01-02"] * 4),
                "mixed": [1, "a", 2.5, True],
            }
        ).to_excel(writer, sheet_name="other", index=False)
    upload = tmp_path / "upload"  # stored without its name: the bytes decide
    upload.write_bytes(path.read_bytes())
    return upload


def test_first_sheet_by_default_as_pandas_reads_it(workbook: Path) -> None:
    result = run_profile(workbook)
    assert result["format"] == "spreadsheet"
    assert_matches_pandas(result, pd.read_excel(workbook, engine="calamine"))


@pytest.mark.parametrize("sheet", ["other", 1])
def test_sheet_param_picks_a_sheet_by_name_or_index(workbook: Path, sheet: str | int) -> None:
    result = run_profile(workbook, JobParams(sheet=sheet))
    assert_matches_pandas(result, pd.read_excel(workbook, sheet_name=sheet, engine="calamine"))
    # Whole numbers with a gap stay "integer" (pandas: float64, same count and mean).
    assert [c["type"] for c in result["profile"]] == ["integer", "datetime", "string"]


def test_header_false_on_a_sheet(workbook: Path) -> None:
    result = run_profile(workbook, JobParams(header=False))
    assert_matches_pandas(result, pd.read_excel(workbook, header=None, engine="calamine"))


def test_an_unknown_sheet_fails_naming_the_sheets(workbook: Path) -> None:
    with pytest.raises(FileJobError, match="cities") as failure:
        run_profile(workbook, JobParams(sheet="nope"))
    assert failure.value.code == "unknown_sheet"


def test_a_workbook_too_large_for_the_budget_is_refused_before_it_is_opened(
    workbook: Path,
) -> None:
    tight = JobLimits(**{**LIMITS.__dict__, "max_decompressed": 1000})
    with pytest.raises(FileJobError) as failure:
        run_profile(workbook, limits=tight)
    assert failure.value.code == "decompressed_too_large"


def test_a_zip_that_is_not_a_workbook_is_unrecognized(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    with pytest.raises(FileJobError) as failure:
        run_profile(path)
    assert failure.value.code == "unrecognized_format"


def test_a_corrupt_xls_fails_as_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8)
    with pytest.raises(FileJobError) as failure:
        run_profile(path)
    assert failure.value.code == "unreadable_file"
