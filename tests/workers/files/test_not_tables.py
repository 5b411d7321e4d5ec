"""A file that is not a table is told what it is, when its bytes say so."""

from __future__ import annotations

import bz2
import lzma

import pytest

from workers.files.not_tables import BINARY, binary_failure, other_compression, utf16_order


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (bz2.compress(b"city,amount\nParis,10\n"), "bzip2"),
        (bz2.compress(b""), "bzip2"),
        (lzma.compress(b"city,amount\nParis,10\n"), "xz"),
        (b"\x28\xb5\x2f\xfd\x20\x00", "zstd"),
    ],
)
def test_a_bzip2_xz_or_zstd_file_is_named_with_what_is_read(data: bytes, named: str) -> None:
    refusal = other_compression(data)

    assert refusal is not None
    assert refusal.code == "unrecognized_format"
    assert refusal.message.startswith(f"The file is {named}-compressed")
    assert "only gzip is" in refusal.message


def test_a_csv_whose_header_starts_bzh_is_no_bzip2() -> None:
    assert other_compression(b"BZh9,amount\n1,2\n") is None


def test_utf16_without_a_byte_order_mark_is_told_by_its_nul_bytes() -> None:
    text = "name\tamount\nA\t1\nZürich\t2\n"
    assert utf16_order(text.encode("utf-16-le")) == "little"
    assert utf16_order(text.encode("utf-16-be")) == "big"
    assert utf16_order(bytes(4096)) is None  # zeros: no text
    assert utf16_order(bytes(range(256)) * 4) is None


def test_nul_rich_text_that_reads_as_utf16_is_told_to_name_its_encoding() -> None:
    refusal = binary_failure("a,b\n1,2\n".encode("utf-16-le"), gzipped=False)

    assert refusal.code == "invalid_encoding"
    assert 'encoding "utf-16-le"' in refusal.message


def test_a_gzipped_parquet_file_is_told_to_be_sent_as_it_is() -> None:
    refusal = binary_failure(b"PAR1\x15\x04\x00\x00", gzipped=True)

    assert refusal.code == "unrecognized_format"
    assert "gzipped Parquet" in refusal.message


def test_other_binary_is_binary() -> None:
    assert binary_failure(bytes(range(256)), gzipped=False).message == BINARY
