"""Every bad input ends in a specific error code, never a hang or a crash."""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import lzma
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobcast.jobs.params import JobParams
from workers.files.errors import FileJobError
from workers.files.file_format import SNIFF_BYTES
from workers.files.runner import Hooks, JobLimits, run_job

LIMITS = JobLimits(
    memory_budget=64 << 20,
    batch_bytes=64 << 10,
    max_decompressed=8 << 20,
    max_columns=2000,
    max_groups=100,
    distinct_limit=1000,
)


def failure_code(path: Path, params: JobParams | None = None) -> str:
    with pytest.raises(FileJobError) as failure:
        run_job(path, params or JobParams(), LIMITS, Hooks(), path.with_suffix(".out"))
    assert failure.value.message
    return failure.value.code


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_empty_file_fails_as_empty(tmp_path: Path) -> None:
    assert failure_code(write(tmp_path, "e.csv", b"")) == "empty_file"
    assert failure_code(write(tmp_path, "blank.csv", b"\n\n  \n")) == "empty_file"


def test_header_only_fails_as_no_rows(tmp_path: Path) -> None:
    assert failure_code(write(tmp_path, "h.csv", b"a,b,c\n")) == "no_rows"


@pytest.mark.parametrize("first_line", [b"a,b", b"hello", b"%PDF-1.4 fake", b'"a";"b"'])
def test_a_lone_header_without_a_line_end_fails_as_no_rows_like_one_with_it(
    tmp_path: Path, first_line: bytes
) -> None:
    with pytest.raises(FileJobError) as bare:
        run_job(write(tmp_path, "b.csv", first_line), JobParams(), LIMITS, Hooks(), tmp_path / "o")
    with pytest.raises(FileJobError) as ended:
        run_job(
            write(tmp_path, "e.csv", first_line + b"\n"),
            JobParams(),
            LIMITS,
            Hooks(),
            tmp_path / "o",
        )
    assert bare.value.as_error() == ended.value.as_error()
    assert bare.value.code == "no_rows"
    assert "header: false" in bare.value.message


def test_a_row_with_more_fields_than_the_header_fails_as_ragged_naming_its_line(
    tmp_path: Path,
) -> None:
    body = b"a,b,c\n" + b"1,2,3\n" * 50 + b"1,2\n" + b"1,2,3,4\n"
    with pytest.raises(FileJobError, match="Line 53 has 4 fields") as failure:
        run_job(write(tmp_path, "r.csv", body), JobParams(), LIMITS, Hooks(), tmp_path / "out")
    assert failure.value.code == "ragged_rows"


@pytest.mark.parametrize(
    ("header", "width_of"), [(True, "the header has 3"), (False, "the first row has 3")]
)
def test_a_row_with_more_fields_says_what_it_has_more_than_with_or_without_a_header(
    tmp_path: Path, header: bool, width_of: str
) -> None:
    body = b"1,2,3\n4,5\n6,7,8,9\n"
    with pytest.raises(pd.errors.ParserError, match="Expected 3 fields in line 3, saw 4"):
        pd.read_csv(io.BytesIO(body), header=0 if header else None)
    path = write(tmp_path, "r.csv", body)
    with pytest.raises(FileJobError) as failure:
        run_job(path, JobParams(header=header), LIMITS, Hooks(), tmp_path / "out")
    assert failure.value.code == "ragged_rows"
    assert failure.value.message == f"Line 3 has 4 fields; {width_of}."


UNCLOSED = {
    "plain": b'a,b\n1,"x\n2,3\n4,5\n6,7\n',
    "no final line end": b'a,b\n1,"x\n2,3\n4,5\n6,7',
    "crlf, semicolons": b'a;b\r\n1;"x\r\n2;3\r\n',
    "quotes written twice inside": b'a,b\n1,"say ""hi""\n2,3\n',
    "in a row padded for its missing fields": b'a,b,c\n1,2\n3\n4,"x\n5,6\n',
    "long file": b"a,b\n" + b"1,2\n" * 200_000 + b'3,"x\n' + b"4,5\n" * 1000,
    # Cut off inside a quoted value, as a broken download is: it read as the value `x`.
    "cut off inside the last value": b'a,b\n1,2\n3,"x',
    "cut off, quotes written twice inside": b'a,b\n1,2\n3,"say ""hi',
    "cut off, tabs": b'a\tb\n1\t2\n3\t"x',
    "cut off in a padded row": b'a,b,c\n1,2\n3,"x',
    "long file cut off": b"a,b\n" + b"1,2\n" * 200_000 + b'3,"x',
    # Rows of data that are not the file's lines: blank lines, a value over two lines.
    "blank lines, a value over two lines before": b'a,b\n\n1,"p\nq"\n\n3,"x\n4,5\n',
    "the same in a padded row": b'a,b,c\n\n1,"p\nq"\n2\n\n3,"x\n4,5\n',
    "long file, padded rows": b"a,b,c\n1,2\n" + b"1,2,3\n" * 200_000 + b'3,"x\n' + b"4\n" * 9,
}


@functools.cache
def pandas_refuses(body: bytes) -> bool:
    """Whether pandas' sniffing python engine refuses `body`. Cached: the header and no-header
    cases share it, and a long file takes the python engine most of a CPU-second."""
    try:
        pd.read_csv(io.BytesIO(body), sep=None, engine="python")
    except pd.errors.ParserError:
        return True
    return False


def where_it_opens(body: bytes, header: bool) -> str:
    """Where the unclosed value is, as pandas reads the file with that quote closed at its end:
    the last row (counted from 1, as rows of data) and its last column with a value."""
    closed = io.BytesIO(body + b'"')
    frame = pd.read_csv(closed, sep=None, engine="python", header=0 if header else None)
    return f"Row {len(frame)}: the value of column {str(frame.iloc[-1].last_valid_index())!r} "


@pytest.mark.parametrize("header", [True, False], ids=["header", "no header"])
@pytest.mark.parametrize("body", UNCLOSED.values(), ids=UNCLOSED.keys())
def test_a_quote_never_closed_fails_instead_of_swallowing_the_rest(
    tmp_path: Path, body: bytes, header: bool
) -> None:
    # pandas: "EOF inside string"; pyarrow alone took every later row into one value.
    assert pandas_refuses(body)
    params = JobParams(header=header)
    where = where_it_opens(body, header)
    for name, stored in (("q.csv", body), ("q.csv.gz", gzip.compress(body))):
        with pytest.raises(FileJobError, match="never closed") as failure:
            run_job(write(tmp_path, name, stored), params, LIMITS, Hooks(), tmp_path / "out")
        assert failure.value.code == "unclosed_quote"
        # Named alike whichever reader met it (the padding of short rows counted lines).
        assert failure.value.message.startswith(where), name


def test_a_quote_never_closed_in_the_header_is_named_not_taken_for_a_lone_header(
    tmp_path: Path,
) -> None:
    body = b'"a,b\n1,2\n3,4\n'  # it failed as no_rows: "a header alone"
    with pytest.raises(pd.errors.ParserError, match="EOF inside string"):
        pd.read_csv(io.BytesIO(body))
    path = write(tmp_path, "h.csv", body)
    with pytest.raises(FileJobError, match=r"^The header \(the first row\): a value") as failure:
        run_job(path, JobParams(), LIMITS, Hooks(), tmp_path / "out")
    assert failure.value.code == "unclosed_quote"
    closed = pd.read_csv(io.BytesIO(body + b'"'), header=None)  # one row, one column: 0
    assert closed.shape == (1, 1)
    with pytest.raises(FileJobError, match=r"^Row 1: the value of column '0' opens") as failure:
        run_job(path, JobParams(header=False), LIMITS, Hooks(), tmp_path / "out")
    assert failure.value.code == "unclosed_quote"


def sample_cut_in_a_pair(first: bytes) -> bytes:
    """`first` then rows that a quote opened in it takes in, a `""` (one quote inside the value)
    cut in two by the end of the 64 KiB sample."""
    rows = b"1,2\n" * 16_000
    body = first + rows + b"y" * (SNIFF_BYTES - 1 - len(first) - len(rows)) + b'""' + rows
    assert body[SNIFF_BYTES - 2 : SNIFF_BYTES + 2] == b'y""1'
    return body


UTF16 = "1,2\n".encode("utf-16-le")
#: Files whose header opens a quote never closed, past the sample and short (one row).
LONG_UNCLOSED_HEADERS = {
    "plain": (b'"a,b\n' + b"1,2\n" * 20_000, b'"a,b\n1,2\n', "q.csv"),
    "gzip": (b'"a,b\n' + b"1,2\n" * 20_000, b'"a,b\n1,2\n', "q.csv.gz"),
    "utf-16": ('"a,b\n'.encode("utf-16") + UTF16 * 20_000, '"a,b\n1,2\n'.encode("utf-16"), "q.csv"),
    "after a closed value": (b'x,"a,b\n' + b"1,2\n" * 20_000, b'x,"a,b\n1,2\n', "q.csv"),
    "a pair of quotes cut by the sample": (sample_cut_in_a_pair(b'"a,b\n'), b'"a,b\n""', "q.csv"),
}


@pytest.mark.parametrize("header", [True, False], ids=["header", "no header"])
@pytest.mark.parametrize(
    ("body", "short", "name"), LONG_UNCLOSED_HEADERS.values(), ids=LONG_UNCLOSED_HEADERS.keys()
)
def test_a_quote_never_closed_in_the_header_past_the_sample_is_named_as_in_a_short_file(
    tmp_path: Path, body: bytes, short: bytes, name: str, header: bool
) -> None:
    # It failed as "The first line is longer than 64 KiB", the whole file taken for the header.
    assert len(body) > SNIFF_BYTES
    with pytest.raises(pd.errors.ParserError, match="EOF inside string"):
        pd.read_csv(io.BytesIO(body), encoding="utf-16" if body[:2] == b"\xff\xfe" else None)
    params = JobParams(header=header)
    with pytest.raises(FileJobError) as in_short:
        run_job(write(tmp_path, "s.csv", short), params, LIMITS, Hooks(), tmp_path / "o")
    assert in_short.value.code == "unclosed_quote"
    stored = gzip.compress(body) if name.endswith(".gz") else body
    with pytest.raises(FileJobError) as failure:
        run_job(write(tmp_path, name, stored), params, LIMITS, Hooks(), tmp_path / "out")
    assert failure.value.as_error() == in_short.value.as_error()


@pytest.mark.parametrize(
    ("first", "where"),
    [
        (b'"a\n', "line 1, column 1"),
        (b'x,"a\n', "line 1, column 3"),
        (b'\nx,"a\n', "line 2, column 3"),
    ],
    ids=["first value", "second value", "after a blank line"],
)
@pytest.mark.parametrize("header", [True, False], ids=["header", "no header"])
def test_a_header_quote_closed_past_the_sample_is_named_where_it_opened(
    tmp_path: Path, first: bytes, where: str, header: bool
) -> None:
    # It said "The first line is longer than 64 KiB: its column names are too long to read",
    # of a first line a few bytes long: the quote made the first row take in the lines below.
    body = sample_cut_in_a_pair(first) + b'",b\n1,2\n'
    frame = pd.read_csv(io.BytesIO(body))  # pandas reads it: a header 128 KB long
    assert frame.shape == (1, len(first.split(b",")) + 1)
    params = JobParams(header=header)
    with pytest.raises(FileJobError) as failure:
        run_job(write(tmp_path, "h.csv", body), params, LIMITS, Hooks(), tmp_path / "out")
    assert failure.value.code == "unreadable_file"
    assert failure.value.message.startswith(
        f'The first row runs past the first 64 KiB: a quote (") opened on {where} does not '
        "close within them,"
    )
    assert "first line is longer" not in failure.value.message


def test_reading_on_for_a_header_quote_stops_at_the_decompressed_cap(tmp_path: Path) -> None:
    bomb = gzip.compress(b'"a,b\n' + b"1,2\n" * (16 << 20), compresslevel=9)
    assert failure_code(write(tmp_path, "bomb.csv.gz", bomb)) == "decompressed_too_large"


CLOSED = {
    "a line end inside": b'a,b\n1,2\n3,"x\ny"\n',
    "a line end last": b'a,b\n1,2\n3,"x\n"\n',
    "a delimiter last, no line end": b'a,b\n1,2\n3,"x,"',
    "quote, line end, quote, line end": b'a,b\n1,2\n3,"""\n""\n"\n',
    "an unquoted last value": b"a,b\n1,2\n3,4",
    "a quote inside an unquoted last value": b'a,b\n1,2\n3,x"y',
    "a closed last value, no line end": b'a,b\n1,2\n3,"x"',
    "quotes twice in a closed last value": b'a,b\n1,2\n3,"say ""hi"""',
}


@pytest.mark.parametrize("body", CLOSED.values(), ids=CLOSED.keys())
def test_a_closed_quoted_value_at_the_end_is_read(tmp_path: Path, body: bytes) -> None:
    result = run_job(write(tmp_path, "q.csv", body), JobParams(), LIMITS, Hooks(), tmp_path / "o")
    assert result["rows"] == len(pd.read_csv(io.BytesIO(body))) == 2


def test_binary_garbage_fails_as_unrecognized(tmp_path: Path) -> None:
    garbage = bytes(range(256)) * 100
    assert failure_code(write(tmp_path, "g.bin", garbage)) == "unrecognized_format"


def test_non_utf8_bytes_past_the_sample_fail_as_invalid_encoding(tmp_path: Path) -> None:
    # As pandas' read_csv (UTF-8 by default) would; the message says to name the encoding.
    late = b"name,n\n" + b"abc,1\n" * 30_000 + "Zoë,2\n".encode("latin-1")
    assert failure_code(write(tmp_path, "late.csv", late)) == "invalid_encoding"


def test_ten_thousand_columns_fail_as_too_many_columns(tmp_path: Path) -> None:
    header = ",".join(f"c{i}" for i in range(10_000))
    row = ",".join("1" for _ in range(10_000))
    assert (
        failure_code(write(tmp_path, "w.csv", f"{header}\n{row}\n".encode())) == "too_many_columns"
    )


def test_gzip_bomb_stops_at_the_decompressed_cap(tmp_path: Path) -> None:
    # 64 MiB of a repeated row compresses to ~64 KiB; the cap is 8 MiB.
    bomb = gzip.compress(b"a,b\n" + b"1,2\n" * (16 << 20), compresslevel=9)
    assert len(bomb) < 200_000
    assert failure_code(write(tmp_path, "bomb.csv.gz", bomb)) == "decompressed_too_large"


def test_parquet_with_garbage_for_data_fails_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"x": list(range(10_000)), "s": ["v"] * 10_000}), path)
    content = bytearray(path.read_bytes())
    content[100:2000] = b"\xff" * 1900  # the column chunks, keeping the footer intact
    path.write_bytes(bytes(content))
    assert failure_code(path) == "corrupt_parquet"


def test_parquet_whose_footer_describes_other_data_fails_as_corrupt(tmp_path: Path) -> None:
    # Footer of a 3-column string file glued to the data pages of a 1-column int file.
    ints, strings = tmp_path / "i.parquet", tmp_path / "s.parquet"
    pq.write_table(pa.table({"x": list(range(5000))}), ints)
    pq.write_table(pa.table({c: ["text"] * 5000 for c in "abc"}), strings)
    a, b = ints.read_bytes(), strings.read_bytes()
    footer_len = int.from_bytes(b[-8:-4], "little")
    liar = write(tmp_path, "liar.parquet", a[: len(a) - 8] + b[-8 - footer_len :])
    assert failure_code(liar) == "corrupt_parquet"


def test_truncated_parquet_fails_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": list(range(1000))}), path)
    liar = write(tmp_path, "cut.parquet", path.read_bytes()[:-20])
    assert failure_code(liar) == "corrupt_parquet"


OPERATIONS = {
    "profile": JobParams(),
    "aggregate": JobParams(operation="aggregate", group_by=["b"], metrics={"a": ["sum"]}),
    "convert to csv": JobParams(operation="convert", to="csv"),
    "convert to parquet": JobParams(operation="convert", to="parquet"),
}


@pytest.mark.parametrize("params", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_parquet_with_two_columns_of_one_name_fails_naming_it_as_pandas_refuses_it(
    tmp_path: Path, params: JobParams
) -> None:
    # pyarrow writes such a file (pandas never does); read_parquet cannot read it back.
    path = tmp_path / "dup.parquet"
    columns = [pa.array([1, 2]), pa.array(["x", "y"]), pa.array([3, 4]), pa.array([5, 6])]
    pq.write_table(pa.table(columns, names=["a", "b", "a", "c"]), path)
    with pytest.raises(pa.ArrowInvalid, match=r"Multiple matches for FieldRef\.Name"):
        pd.read_parquet(path)
    with pytest.raises(FileJobError) as failure:
        run_job(path, params, LIMITS, Hooks(), tmp_path / "out")
    assert failure.value.code == "duplicate_columns"
    assert failure.value.message.startswith("Column names used more than once: 'a'. Give each")
    assert not (tmp_path / "out").exists()


def test_aggregate_on_a_missing_column_fails_as_unknown_column_naming_those_there(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "a.csv", b"k,v\na,1\nb,2\n")
    params = JobParams(operation="aggregate", group_by=["nope"], metrics={"v": ["sum"]})
    assert failure_code(path, params) == "unknown_column"
    with pytest.raises(FileJobError) as failure:
        run_job(path, params, LIMITS, Hooks(), path.with_suffix(".out"))
    assert failure.value.message == "No column named 'nope'; the file has 'k', 'v'."
    several = JobParams(operation="aggregate", group_by=["nope"], metrics={"zip": ["sum"]})
    with pytest.raises(FileJobError) as failure:
        run_job(path, several, LIMITS, Hooks(), path.with_suffix(".out"))
    assert failure.value.message == "No columns named 'nope', 'zip'; the file has 'k', 'v'."

    wide = write(
        tmp_path,
        "w.csv",
        (",".join(f"c{i}" for i in range(25)) + "\n" + "1," * 24 + "1\n").encode(),
    )
    with pytest.raises(FileJobError) as failure:
        run_job(wide, params, LIMITS, Hooks(), wide.with_suffix(".out"))
    assert failure.value.message.endswith("'c19' and 5 more.")


def test_a_metric_that_does_not_apply_to_its_column_fails_as_unsupported(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", b"k,v\na,x\nb,y\n")
    params = JobParams(operation="aggregate", group_by=["k"], metrics={"v": ["mean"]})
    assert failure_code(path, params) == "unsupported_metric"


def test_undecodable_bytes_in_the_first_block_past_the_sample_fail_as_invalid_encoding(
    tmp_path: Path,
) -> None:
    # pyarrow would type the column binary; pandas fails, so do we (the block holds them all).
    body = b"x,y\n" + b"a,1\n" * 20_000 + "José,1\n".encode("latin-1")
    roomy = JobLimits(**{**LIMITS.__dict__, "batch_bytes": 4 << 20, "memory_budget": 512 << 20})
    with pytest.raises(FileJobError) as failure:
        run_job(write(tmp_path, "late.csv", body), JobParams(), roomy, Hooks(), tmp_path / "o")
    assert failure.value.code == "invalid_encoding"


def test_json_lines_errors_name_the_line_of_the_file_counting_from_one(tmp_path: Path) -> None:
    # Past the first block, with a blank line: pyarrow would say "row 0" of its block.
    body = b'{"a": 1}\n' * 20_000 + b"\n" + b'{"a": 2}\n{"a": }\n'
    with pytest.raises(FileJobError, match=r"^Line 20003 is not valid JSON: .*\(column 7\)"):
        run_job(write(tmp_path, "j.jsonl", body), JobParams(), LIMITS, Hooks(), tmp_path / "o")


def test_a_lone_surrogate_escape_names_its_line_and_field(tmp_path: Path) -> None:
    # Valid JSON syntax that is no Unicode text: pyarrow refuses it as "row 0" of its block
    # (the owner was told the line is not one object); a pair is one character and reads.
    good = b'{"a": "\\ud83d\\ude00", "b": {"c": ["y"]}}\n'
    body = good * 3 + b'{"a": "ok", "b": {"c": ["x\\udc00"]}}\n'
    with pytest.raises(FileJobError) as failure:
        run_job(write(tmp_path, "s.jsonl", body), JobParams(), LIMITS, Hooks(), tmp_path / "o")
    assert failure.value.code == "invalid_json"
    assert failure.value.message.startswith(
        "Line 4: field 'b' holds \\udc00, half of a UTF-16 surrogate pair"
    )
    result = run_job(write(tmp_path, "p.jsonl", good), JobParams(), LIMITS, Hooks(), tmp_path / "q")
    assert result["profile"][0]["top"] == [{"value": "\U0001f600", "count": 1}]


def test_a_json_field_turning_from_numbers_to_text_names_the_column_and_its_line(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "j.jsonl", b'{"a": 1}\n{"a": "x"}\n')
    with pytest.raises(FileJobError) as failure:
        run_job(path, JobParams(), LIMITS, Hooks(), tmp_path / "o")
    assert failure.value.code == "invalid_json"
    assert failure.value.message.startswith("Column 'a' changes from number to text on line 2;")


@pytest.mark.parametrize(
    "body",
    [b'{"a": 1}\n[1, 2]\n', b"{}\n5\n", b'{"a": {"b": 1}}\n{"a": {"b": "x"}}\n'],
    ids=["array-line", "number-line-no-fields", "nested-field"],
)
def test_json_lines_that_pyarrow_cannot_type_fail_instead_of_reading_forever(
    tmp_path: Path, body: bytes
) -> None:
    # Each once read again and again: its scan found no top-level field to type.
    path = write(tmp_path, "j.jsonl", body)
    with pytest.raises(FileJobError) as failure:
        run_job(path, JobParams(), LIMITS, Hooks(), tmp_path / "o")
    assert failure.value.code == "invalid_json"
    assert "Column(" not in failure.value.message


@pytest.mark.parametrize(
    "body",
    [
        b'[{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]',
        b'[\n  {\n    "a": 1,\n    "b": "x"\n  },\n  {\n    "a": 2\n  }\n]',
        b"\n  [[1, 2], [3, 4]]\n",
    ],
    ids=["compact", "pretty", "arrays-after-a-blank-line"],
)
def test_a_json_array_file_fails_saying_it_is_one_array_and_how_to_convert_it(
    tmp_path: Path, body: bytes
) -> None:
    # Compact, it was told "Line 1 is not a JSON object"; pretty-printed, "Line 1 is not valid
    # JSON: Expecting value (column 2)": neither said the file is an array, as the README does.
    with pytest.raises(FileJobError) as failure:
        run_job(write(tmp_path, "a.json", body), JobParams(), LIMITS, Hooks(), tmp_path / "o")
    assert failure.value.code == "invalid_json"
    assert failure.value.message.startswith(
        "This file is one JSON array, not JSON Lines (one object per line)"
    )
    assert "jq -c '.[]'" in failure.value.message


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


@pytest.mark.parametrize(
    ("name", "body", "code", "said"),
    [
        ("zero.parquet", _parquet(pa.table({"a": pa.array([], pa.int64())})), "no_rows", "Parquet"),
        ("s.csv.bz2", bz2.compress(b"city,amount\nParis,10\n"), "unrecognized_format", "bzip2"),
        ("s.csv.xz", lzma.compress(b"city,amount\nParis,10\n"), "unrecognized_format", "xz"),
        (
            "p.parquet.gz",
            gzip.compress(_parquet(pa.table({"a": [1]}))),
            "unrecognized_format",
            "gzipped Parquet",
        ),
        ("u.tsv", "name\tamount\nA\t1\n".encode("utf-16-le"), "invalid_encoding", "utf-16-le"),
    ],
    ids=["zero-row-parquet", "bzip2", "xz", "gzipped-parquet", "utf-16-without-bom"],
)
def test_a_file_is_refused_saying_what_it_is_and_no_hint_for_another_format(
    tmp_path: Path, name: str, body: bytes, code: str, said: str
) -> None:
    # Each was told "binary ... (it contains NUL bytes)", or, for a Parquet file without rows,
    # to send `header: false`, which only a CSV or a spreadsheet has.
    with pytest.raises(FileJobError) as failure:
        run_job(write(tmp_path, name, body), JobParams(), LIMITS, Hooks(), tmp_path / "o")
    assert failure.value.code == code
    assert said in failure.value.message
    assert "NUL" not in failure.value.message
    assert "header" not in failure.value.message


def test_a_header_quote_under_an_excel_sep_line_is_named_on_the_files_line(
    tmp_path: Path,
) -> None:
    body = sample_cut_in_a_pair(b'sep=,\nx,"a\n') + b'",b\n1,2\n'
    with pytest.raises(FileJobError) as failure:
        run_job(write(tmp_path, "h.csv", body), JobParams(), LIMITS, Hooks(), tmp_path / "out")
    assert failure.value.message.startswith(
        'The first row runs past the first 64 KiB: a quote (") opened on line 2, column 3 does '
    )


def test_a_header_quote_never_closed_under_an_excel_sep_line_fails_as_unclosed(
    tmp_path: Path,
) -> None:
    body = b'sep=,\n"a,b\n' + b"1,2\n" * 20_000
    with pytest.raises(FileJobError) as failure:
        run_job(write(tmp_path, "h.csv", body), JobParams(), LIMITS, Hooks(), tmp_path / "out")
    assert failure.value.code == "unclosed_quote"
