"""Each way real files differ from clean CSV, read from the same bytes as pandas reads them."""

from __future__ import annotations

import gzip
import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pandas._libs.parsers import STR_NA_VALUES

from jobcast.jobs.params import JobParams
from tests.workers.files.pandas_compare import LIMITS, assert_matches_pandas, run_profile
from workers.files.errors import FileJobError
from workers.files.na_values import PANDAS_NA_VALUES


def write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "upload"
    path.write_bytes(content)
    return path


def test_missing_values_are_exactly_pandas_default_na_values(tmp_path: Path) -> None:
    assert set(PANDAS_NA_VALUES) == set(STR_NA_VALUES)
    tokens = sorted(STR_NA_VALUES - {""})
    body = "x,y\n" + "".join(f"{t},1\n" for t in tokens) + '"NA",2\n-,3\nnone,4\n'
    path = write(tmp_path, body.encode())

    result = run_profile(path)

    assert_matches_pandas(result, pd.read_csv(io.BytesIO(body.encode())))
    assert result["profile"][0]["count"] == 2  # "-" and "none" are text, as in pandas


def test_a_numeric_header_is_the_header_as_in_pandas(tmp_path: Path) -> None:
    body = b"country,1960,1961,1962\nAruba,54608,55811,56682\nChad,3.1,,3.3\nPeru,1,2,3\n"
    result = run_profile(write(tmp_path, body))
    assert_matches_pandas(result, pd.read_csv(io.BytesIO(body)))
    assert result["columns"] == 4
    assert result["rows"] == 3


def test_a_metadata_first_line_is_the_header_as_in_pandas(tmp_path: Path) -> None:
    body = (
        b"150,4,setosa,versicolor,virginica\n"
        b"5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,0\n7.0,3.2,4.7,1.4,1\n"
    )
    assert_matches_pandas(run_profile(write(tmp_path, body)), pd.read_csv(io.BytesIO(body)))


def test_header_false_reads_the_first_line_as_data(tmp_path: Path) -> None:
    body = b"1,2,x\n3,4,y\n5,,z\n"
    result = run_profile(write(tmp_path, body), JobParams(header=False))
    assert_matches_pandas(result, pd.read_csv(io.BytesIO(body), header=None))


def test_a_column_empty_in_the_first_block_is_typed_from_all_its_values(tmp_path: Path) -> None:
    # Sorted data: `late` is empty for the first ~200 KB (several 64 KiB blocks), then decimals;
    # `widening` holds integers first and decimals far down.
    rows = [f"{i},,{i}" for i in range(20_000)] + [
        f"{i},{i / 7},{i}.5" for i in range(20_000, 20_100)
    ]
    body = ("id,late,widening\n" + "\n".join(rows) + "\n").encode()

    result = run_profile(write(tmp_path, body))

    frame = pd.read_csv(io.BytesIO(body))
    assert_matches_pandas(result, frame)
    assert [c["type"] for c in result["profile"]] == ["integer", "float", "float"]


def test_short_rows_are_padded_with_missing_values_as_in_pandas(tmp_path: Path) -> None:
    body = b"a,b,c\n1,2,3\n4,5\n6\n7,8,9\n"
    result = run_profile(write(tmp_path, body))
    assert_matches_pandas(result, pd.read_csv(io.BytesIO(body)))


def test_a_row_longer_than_the_header_names_its_line(tmp_path: Path) -> None:
    body = b"a,b\n1,2\n3,4,5\n"
    with pytest.raises(FileJobError, match="Line 3 has 3 fields") as failure:
        run_profile(write(tmp_path, body))
    assert failure.value.code == "ragged_rows"


def test_parquet_float_nan_is_missing_as_in_pandas(tmp_path: Path) -> None:
    values = np.array([1.0, np.nan, 3.0, np.nan, 10.0])
    path = tmp_path / "nan.parquet"
    pq.write_table(pa.table({"x": pa.array(values, from_pandas=False)}), path)
    assert pq.read_table(path)["x"].null_count == 0  # stored as NaN, not null

    result = run_profile(path)

    assert_matches_pandas(result, pd.read_parquet(path))
    assert result["profile"][0]["count"] == 3


def test_parquet_written_by_pandas_with_its_index_restores_the_index(tmp_path: Path) -> None:
    frame = pd.DataFrame({"v": [1.5, 2.5, 3.5]}, index=pd.Index(["a", "b", "c"], name="key"))
    path = tmp_path / "indexed.parquet"
    frame.to_parquet(path)

    result = run_profile(path)

    assert_matches_pandas(result, pd.read_parquet(path))
    assert [c["name"] for c in result["profile"]] == ["v"]


def test_parquet_with_its_index_named_as_a_column_profiles_the_column(tmp_path: Path) -> None:
    # pyarrow stores such an index as `__index_level_0__`, its name in the metadata.
    index = pd.Index([10, 20, 30], name="id")
    frame = pd.DataFrame({"id": [1.5, 2.5, 4.5], "v": ["a", "b", "b"]}, index=index)
    path = tmp_path / "indexed.parquet"
    frame.to_parquet(path)

    result = run_profile(path)

    assert_matches_pandas(result, pd.read_parquet(path))
    assert [c["name"] for c in result["profile"]] == ["id", "v"]


def test_top_values_tie_in_first_seen_order_as_value_counts(tmp_path: Path) -> None:
    body = b"k\nzebra\napple\nmango\napple\nzebra\nmango\nkiwi\n"
    result = run_profile(write(tmp_path, body))
    counts = pd.read_csv(io.BytesIO(body))["k"].value_counts()
    assert [(t["value"], t["count"]) for t in result["profile"][0]["top"]] == list(counts.items())
    assert result["profile"][0]["top"][0]["value"] == "zebra"


def test_the_distinct_estimate_never_exceeds_the_values_counted(tmp_path: Path) -> None:
    # 12,000 distinct ids whose k-minimum-values estimate is 12,299 (checked in the sketch test).
    body = ("id\n" + "\n".join(f"id{i}" for i in range(12_000)) + "\n").encode()
    result = run_profile(write(tmp_path, body))
    column = result["profile"][0]
    assert column["distinct_exact"] is False
    assert column["distinct"] == column["count"] == 12_000


def test_decimal_commas_are_detected_after_semicolons_and_can_be_given(tmp_path: Path) -> None:
    body = "name;price;qty\nÄpfel;1,5;3\nBirnen;2,25;4\nKiwi;;5\n".encode()
    expected = pd.read_csv(io.BytesIO(body), sep=";", decimal=",")
    assert_matches_pandas(run_profile(write(tmp_path, body)), expected)
    assert_matches_pandas(run_profile(write(tmp_path, body), JobParams(decimal=",")), expected)
    as_text = run_profile(write(tmp_path, body), JobParams(decimal="."))
    assert as_text["profile"][1]["type"] == "string"


@pytest.mark.parametrize(
    ("encoding", "given"),
    [("utf-8-sig", None), ("utf-16", None), ("cp1252", None), ("latin-1", "latin-1")],
)
def test_encodings_are_detected_or_given_and_reported(
    tmp_path: Path, encoding: str, given: str | None
) -> None:
    text = "ville,prix\nZürich,1.5\nSão Paulo,2\nKraków,3.25\nÅlesund,4\nCôte,5\n" * 20
    path = write(tmp_path, text.encode(encoding))

    result = run_profile(path, JobParams(encoding=given))

    assert_matches_pandas(result, pd.read_csv(io.StringIO(text)))
    assert result["encoding"] == {"utf-8-sig": "utf-8", "latin-1": "iso8859-1"}.get(
        encoding, encoding
    )


def test_an_unknown_encoding_name_fails_the_job_naming_it(tmp_path: Path) -> None:
    with pytest.raises(FileJobError, match="Unknown encoding 'klingon-8'") as failure:
        run_profile(write(tmp_path, b"a\n1\n"), JobParams(encoding="klingon-8"))
    assert failure.value.code == "invalid_encoding"
    with pytest.raises(ValueError, match="pattern"):
        JobParams(encoding="no spaces or quotes'")


def test_json_lines_fields_null_or_integer_at_first_are_typed_from_every_line(
    tmp_path: Path,
) -> None:
    rows = [f'{{"id": {i}, "late": null, "v": {i}}}' for i in range(20_000)]
    rows += [f'{{"id": {i}, "late": {i / 4}, "v": {i}.5}}' for i in range(100)]
    path = write(tmp_path, ("\n".join(rows) + "\n").encode())

    result = run_profile(path)

    assert_matches_pandas(result, pd.read_json(path, lines=True))
    assert [c["type"] for c in result["profile"]] == ["integer", "float", "float"]


def test_a_json_field_mixing_text_and_numbers_fails_saying_so(tmp_path: Path) -> None:
    rows = [f'{{"v": {i}}}' for i in range(20_000)] + ['{"v": "x"}']
    turn = "Column 'v' changes from number to text on line 20001"
    with pytest.raises(FileJobError, match=turn) as failure:
        run_profile(write(tmp_path, ("\n".join(rows) + "\n").encode()))
    assert failure.value.code == "invalid_json"


@pytest.mark.parametrize(
    ("ids", "kind"),
    [
        # IDs past int64 fit uint64: pandas keeps them exact (pyarrow alone made them float64).
        (["12345678901234567890", "1", "12345678901234567891"], "integer"),
        # Past uint64, or negative beside such a value: pandas reads text.
        (["123456789012345678901234", "1"], "string"),
        (["-5", "12345678901234567890"], "string"),
    ],
)
def test_integers_past_int64_are_read_as_pandas_reads_them(
    tmp_path: Path, ids: list[str], kind: str
) -> None:
    body = ("id,v\n" + "".join(f"{i},{n}\n" for n, i in enumerate(ids))).encode()

    result = run_profile(write(tmp_path, body))

    assert_matches_pandas(result, pd.read_csv(io.BytesIO(body)))
    column = result["profile"][0]
    assert column["type"] == kind
    if kind == "integer":
        assert column["max"] == 12345678901234567891  # every digit, not 1.2345678901234567e19
        assert {t["value"] for t in column["top"]} == {int(i) for i in ids}


@pytest.mark.parametrize("gzipped", [False, True], ids=["parallel reader", "streaming reader"])
def test_an_integer_past_int64_far_down_the_file_retypes_its_column(
    tmp_path: Path, gzipped: bool
) -> None:
    # The first blocks read as int64; the last row's ID does not fit it. Distinct values past
    # the exact limit are hashed (uint64 past int64 included).
    body = ("id,v\n" + "".join(f"{i},{i % 7}\n" for i in range(200_000))).encode()
    body += b"12345678901234567890,3\n"
    path = write(tmp_path, gzip.compress(body) if gzipped else body)

    result = run_profile(path)

    assert_matches_pandas(result, pd.read_csv(io.BytesIO(body)))
    column = result["profile"][0]
    assert (column["type"], column["max"]) == ("integer", 12345678901234567890)


def test_huge_floats_stay_floats(tmp_path: Path) -> None:
    # Past int64's range as a float is: the text is scanned, and found to be decimals.
    body = b"x,v\n2.5e20,1\n2.5,2\n-1e19,3\n,4\n"
    result = run_profile(write(tmp_path, body))
    assert_matches_pandas(result, pd.read_csv(io.BytesIO(body)))
    assert result["profile"][0]["type"] == "float"


@pytest.mark.parametrize(
    ("lines", "kind"),
    [
        (['{"id": 1}', '{"id": 12345678901234567890}'], "integer"),
        (['{"id": -5}', '{"id": 12345678901234567890}'], "float"),  # pandas' float64
    ],
)
def test_json_integers_past_int64_are_read_as_pandas_reads_them(
    tmp_path: Path, lines: list[str], kind: str
) -> None:
    path = write(tmp_path, ("\n".join(lines) + "\n").encode())
    result = run_profile(path)
    assert_matches_pandas(result, pd.read_json(path, lines=True))
    assert result["profile"][0]["type"] == kind


def test_a_json_integer_past_64_bits_fails_saying_what_to_do(tmp_path: Path) -> None:
    path = write(tmp_path, b'{"id": 1}\n{"id": 123456789012345678901234}\n')
    with pytest.raises(FileJobError, match="'id' holds an integer past 64 bits on line 2; quote"):
        run_profile(path)


def test_a_categoricals_top_ties_come_in_category_order_as_pandas(tmp_path: Path) -> None:
    # pandas' value_counts ranks a categorical's ties by its categories; they came first-seen.
    sizes = pd.Categorical(
        ["high", "low", "medium", "low", "high"], ["low", "medium", "high", "xl"]
    )
    pd.DataFrame({"size": sizes}).to_parquet(tmp_path / "c.parquet", row_group_size=2)

    result = run_profile(tmp_path / "c.parquet")

    counts = pd.read_parquet(tmp_path / "c.parquet")["size"].value_counts()
    expected = [{"value": v, "count": c} for v, c in counts.items() if c]
    assert result["profile"][0]["top"] == expected


@pytest.mark.parametrize("text", [False, True], ids=["numbers", "words"])
def test_a_line_of_spaces_past_the_sample_in_the_first_block_is_skipped_as_in_pandas(
    tmp_path: Path, text: bool
) -> None:
    # One column: no short row tells the line apart; the first block (256 KiB) holds it.
    rows = [f"w{i % 40}" if text else str(i) for i in range(40_000)]
    body = ("n\n" + "\n".join([*rows[:20_000], " \t ", *rows[20_000:]]) + "\n").encode()
    assert 64 * 1024 < body.index(b" \t ") < 256 * 1024
    limits = replace(LIMITS, batch_bytes=256 << 10)

    result = run_profile(write(tmp_path, body), limits=limits)

    assert_matches_pandas(result, pd.read_csv(io.BytesIO(body)))
    assert result["profile"][0]["type"] == ("string" if text else "integer")
