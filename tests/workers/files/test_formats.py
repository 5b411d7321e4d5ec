"""Format, delimiter and header are detected from the file's bytes."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobcast.jobs.params import JobParams
from workers.files.errors import FileJobError
from workers.files.file_format import FileFormat
from workers.files.formats import detect_format


def write(tmp_path: Path, content: bytes, name: str = "upload") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("content", "kind", "delimiter"),
    [
        (b"a,b\n1,2\n", "csv", ","),
        (b"a\tb\n1\t2\n", "csv", "\t"),
        (b'a;b\n"x;y";2\n', "csv", ";"),
        (b"a|b|c\n1|2|3\n", "csv", "|"),
        (b"a,b\r1,2\r3,4\r", "csv", ","),
        (b'{"a": 1}\n{"a": 2}\n', "jsonl", ","),
    ],
    ids=["csv", "tsv", "semicolon-quoted", "pipe", "bare-cr", "jsonl"],
)
def test_text_formats_are_recognised(
    tmp_path: Path, content: bytes, kind: str, delimiter: str
) -> None:
    fmt = detect_format(write(tmp_path, content))
    assert (fmt.kind, fmt.delimiter, fmt.encoding) == (kind, delimiter, "utf-8")


def test_a_decimal_comma_is_never_taken_for_the_delimiter(tmp_path: Path) -> None:
    # One comma and one semicolon a line: "," splits every line alike, so it won the tie.
    path = write(tmp_path, b"Paris;2,5\nLyon;1,5\n")
    assert detect_format(path, JobParams(header=False)).delimiter == ","
    fmt = detect_format(path, JobParams(header=False, decimal=","))
    assert (fmt.delimiter, fmt.decimal) == (";", ",")


def test_the_first_line_is_the_header_even_when_it_is_numbers_as_in_pandas(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, b"country,1960,1961,1960\nAW,1,2,3\n,4,5,6\n")
    assert detect_format(path).names == ("country", "1960", "1961", "1960.1")
    headless = detect_format(path, JobParams(header=False))
    assert headless.names == ("0", "1", "2", "3")
    assert headless.header_lines == 0


def test_blank_and_repeated_header_names_are_made_unique_as_pandas_does(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,,a,a.1,a\n1,2,3,4,5\n")
    expected = tuple(pd.read_csv(path).columns)
    assert detect_format(path).names == expected


def test_gzip_and_parquet_are_recognised_whatever_the_name(tmp_path: Path) -> None:
    gz = write(tmp_path, gzip.compress(b"a\tb\n1\t2\n"), "data.txt")
    parquet = tmp_path / "data.csv"
    pq.write_table(pa.table({"a": [1]}), parquet)

    assert detect_format(gz).gzip is True
    assert detect_format(gz).name == "tsv.gz"
    assert detect_format(parquet) == FileFormat("parquet")


def test_a_multibyte_character_cut_by_the_sample_is_not_an_encoding_error(tmp_path: Path) -> None:
    body = b"name\n" + "é\n".encode() * 40_000
    assert detect_format(write(tmp_path, body)).kind == "csv"


def test_a_comma_separated_file_sent_with_a_decimal_comma_is_refused_saying_why(
    tmp_path: Path,
) -> None:
    # It was read as one column named "city,amount" (format tsv), and the job succeeded.
    path = write(tmp_path, b"city,amount\nParis,10\nLyon,5\n")
    with pytest.raises(FileJobError) as refused:
        detect_format(path, JobParams(decimal=","))
    assert refused.value.code == "unreadable_file"
    assert 'separated by commas, but it was sent with decimal ","' in str(refused.value)
    # One column whose numbers are written 1,5 is what a decimal comma is for: read as asked.
    single = write(tmp_path, b"amount\n1,5\n2,5\n", "single")
    fmt = detect_format(single, JobParams(decimal=","))
    assert (fmt.names, fmt.decimal) == (("amount",), ",")


def test_a_sep_line_naming_the_delimiter_wins_over_the_comma_separated_refusal(
    tmp_path: Path,
) -> None:
    # Commas split every line below `sep=;` alike: it was refused as "separated by commas".
    path = write(tmp_path, b"sep=;\nPreis,EUR\n1,5\n2,25\n")
    fmt = detect_format(path, JobParams(decimal=","))
    assert (fmt.delimiter, fmt.decimal, fmt.names) == (";", ",", ("Preis,EUR",))


@pytest.mark.parametrize(
    ("body", "decimal"),
    [
        (b"Artikel;Menge;Preis\r\nA;1.234;2,50\r\nB;500;3,00\r\nC;2.000;1,25\r\n", ","),
        (b"a;b\nx;12.345.678;\ny;1,5\n", ","),
        (b"a;b\nx;0.125\ny;1,5\n", "."),  # no thousands grouping: a decimal point
        (b"a;b\nx;1.5\ny;1,5\n", "."),
        (b"a;b\nx;1.234\ny;2.000\n", "."),  # no decimal comma: nothing says they are thousands
    ],
    ids=["german-export", "millions", "leading-zero", "mixed-marks", "dots-alone"],
)
def test_thousands_dots_beside_decimal_commas_keep_the_decimal_comma(
    tmp_path: Path, body: bytes, decimal: str
) -> None:
    assert detect_format(write(tmp_path, body)).decimal == decimal


@pytest.mark.parametrize(
    ("content", "delimiter", "decimal"),
    [
        (b"sep=;\r\na;b\r\n1;2,5\r\n3;4,0\r\n", ";", ","),
        (b"\xef\xbb\xbfsep=,\na,b\n1,2.5\n", ",", "."),
        (b"sep=|\ra|b\r1|2\r", "|", "."),
        (b"sep=;\nname;note\nAda;a,b\nBob;c,d\n", ";", "."),  # commas split it evenly too
    ],
    ids=["semicolon-decimal-comma", "bom-comma", "pipe-bare-cr", "over-sniffing"],
)
def test_an_excel_sep_line_names_the_delimiter_and_is_skipped(
    tmp_path: Path, content: bytes, delimiter: str, decimal: str
) -> None:
    fmt = detect_format(write(tmp_path, content))
    assert (fmt.delimiter, fmt.decimal, fmt.hint_lines, fmt.header_lines) == (
        delimiter,
        decimal,
        1,
        2,
    )
    assert fmt.names == tuple(pd.read_csv(write(tmp_path, content), sep=delimiter, skiprows=1))


def test_an_excel_sep_line_is_skipped_before_data_without_a_header(tmp_path: Path) -> None:
    fmt = detect_format(write(tmp_path, b"sep=;\n1;2,5\n3;4,0\n"), JobParams(header=False))
    assert (fmt.delimiter, fmt.decimal, fmt.names, fmt.header_lines) == (";", ",", ("0", "1"), 1)


def test_an_excel_sep_line_naming_the_given_decimal_fails(tmp_path: Path) -> None:
    with pytest.raises(FileJobError) as failure:
        detect_format(write(tmp_path, b"sep=,\na,b\n1,2\n"), JobParams(decimal=","))
    assert failure.value.code == "unusable_delimiter"
    assert 'decimal ","' in failure.value.message


def test_a_file_of_an_excel_sep_line_alone_is_empty(tmp_path: Path) -> None:
    with pytest.raises(FileJobError) as failure:
        detect_format(write(tmp_path, b"sep=;\r\n"))
    assert failure.value.code == "empty_file"
