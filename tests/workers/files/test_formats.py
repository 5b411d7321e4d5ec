"""Format, delimiter and header are detected from the file's bytes."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workers.files.formats import FileFormat, detect_format


def write(tmp_path: Path, content: bytes, name: str = "upload") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"a,b\n1,2\n", FileFormat("csv", delimiter=",")),
        (b"a\tb\n1\t2\n", FileFormat("csv", delimiter="\t")),
        (b'a;b\n"x;y";2\n', FileFormat("csv", delimiter=";")),
        (b"a|b|c\n1|2|3\n", FileFormat("csv", delimiter="|")),
        (b"1,2\n3,4\n", FileFormat("csv", delimiter=",", header=False)),
        (b'{"a": 1}\n{"a": 2}\n', FileFormat("jsonl")),
    ],
    ids=["csv", "tsv", "semicolon-quoted", "pipe", "no-header", "jsonl"],
)
def test_text_formats_are_recognised(tmp_path: Path, content: bytes, expected: FileFormat) -> None:
    assert detect_format(write(tmp_path, content)) == expected


def test_gzip_and_parquet_are_recognised_whatever_the_name(tmp_path: Path) -> None:
    gz = write(tmp_path, gzip.compress(b"a\tb\n1\t2\n"), "data.txt")
    parquet = tmp_path / "data.csv"
    pq.write_table(pa.table({"a": [1]}), parquet)

    assert detect_format(gz) == FileFormat("csv", gzip=True, delimiter="\t")
    assert detect_format(gz).name == "tsv.gz"
    assert detect_format(parquet) == FileFormat("parquet")


def test_a_multibyte_character_cut_by_the_sample_is_not_an_encoding_error(tmp_path: Path) -> None:
    body = b"name\n" + "é\n".encode() * 40_000
    assert detect_format(write(tmp_path, body)).kind == "csv"
