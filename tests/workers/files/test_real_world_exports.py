"""Files as exports and downloads leave them, end to end through an api and a files worker:
read as pandas reads the same bytes, or refused saying what the file is."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.conftest import SharedStack, module_stack
from tests.workers.files.pandas_compare import assert_matches_pandas
from tests.workers.files.support import JobsClient, await_terminal

exports_stack = module_stack(worker_queues="files")


def outcome(stack: SharedStack, path: Path, body: bytes) -> Any:
    """The job's result once it succeeded, or its error once it failed."""
    return submitted(stack, path, body, {})


@pytest.mark.parametrize(
    "body",
    [
        b"a,b\n1,2\n   \n3,4\n",  # spaces
        b"a,b\r\n1,2\r\n3,4\r\n\t\r\n",  # a tab, at the end, CRLF
        b"a\n1\n  \n2\n",  # one column: the spaces would be a value
    ],
    ids=["spaces", "trailing-tab", "one-column"],
)
def test_a_line_of_only_spaces_or_tabs_is_skipped_as_pandas_skips_it(
    exports_stack: SharedStack, tmp_path: Path, body: bytes
) -> None:
    result = outcome(exports_stack, tmp_path / "edited.csv", body)

    assert_matches_pandas(result, pd.read_csv(io.BytesIO(body)))
    assert [c["type"] for c in result["profile"]] == ["integer"] * result["columns"]


@pytest.mark.parametrize(
    "body",
    [
        b'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        b"<script>window.cfg = {a: 1, b: 2};</script>\n</head>\n<body>Sign in</body>\n</html>\n",
        b"\xef\xbb\xbf<HTML><BODY><TABLE><TR><TD>a</TD><TD>b</TD></TR></TABLE></BODY></HTML>\n",
        b"  <table>\n<tr><th>a</th><th>b</th></tr>\n<tr><td>1</td><td>2</td></tr>\n</table>\n",
    ],
    ids=["sign-in-page", "export-to-excel-table", "bare-table"],
)
def test_an_html_page_sent_as_a_table_fails_saying_it_is_html(
    exports_stack: SharedStack, tmp_path: Path, body: bytes
) -> None:
    error = outcome(exports_stack, tmp_path / "report.csv", body)

    assert error["code"] == "unrecognized_format"
    assert "HTML" in error["message"]


def test_an_xml_document_sent_as_a_table_fails_saying_it_is_xml(
    exports_stack: SharedStack, tmp_path: Path
) -> None:
    body = b'<?xml version="1.0"?>\n<Workbook>\n<Row><Cell>1</Cell></Row>\n</Workbook>\n'

    error = outcome(exports_stack, tmp_path / "report.csv", body)

    assert error["code"] == "unrecognized_format"
    assert "XML" in error["message"]


def submitted(stack: SharedStack, path: Path, body: bytes, params: dict[str, Any]) -> Any:
    """The job's result once it succeeded, or its error once it failed, sent with `params`."""
    path.write_bytes(body)
    jobs = JobsClient(stack.url, stack.new_key("exporter")[0])
    try:
        job_id = jobs.submit_ok(path, json.dumps(params))
        if await_terminal(stack.redis, job_id)["type"] == "job.failed":
            return jobs.job(job_id)["error"]
        return jobs.result(job_id)
    finally:
        jobs.http.close()


@pytest.mark.parametrize(
    ("body", "options"),
    [
        # Excel in most of Europe: cp1252, `;`, decimal commas, CRLF.
        (
            "sep=;\r\nStadt;Betrag;Menge\r\nKöln;2,5;3\r\nMünchen;4,0;7\r\nBonn;1,25;2\r\n".encode(
                "cp1252"
            ),
            {"sep": ";", "decimal": ",", "encoding": "cp1252"},
        ),
        (
            b"\xef\xbb\xbfsep=,\r\ncity,amount\r\nParis,2.5\r\nLyon,4\r\n",
            {"sep": ",", "encoding": "utf-8-sig"},
        ),
        (b"sep=\t\na\tb\n1\t2.5\n3\t4.5\n", {"sep": "\t"}),
        (b"sep=|\na|b|c\n1|x|2\n3|y|4\n", {"sep": "|"}),
        # A `sep=` line that names the delimiter sniffing would not pick: `;` in a file that
        # commas split evenly too.
        (b"sep=;\nname;note\nAda;a,b\nBob;c,d\n", {"sep": ";"}),
    ],
    ids=["excel-european", "bom-comma", "tab", "pipe", "overrides-sniffing"],
)
def test_an_excel_sep_line_names_the_delimiter_and_is_not_read_as_the_header(
    exports_stack: SharedStack, tmp_path: Path, body: bytes, options: dict[str, str]
) -> None:
    result = submitted(exports_stack, tmp_path / "export.csv", body, {})

    assert_matches_pandas(result, pd.read_csv(io.BytesIO(body), skiprows=1, **options))


def test_an_excel_sep_line_is_skipped_in_a_gzip_file_with_short_rows(
    exports_stack: SharedStack, tmp_path: Path
) -> None:
    text = "sep=;\r\na;b;c\r\n" + "".join(f"{i};{i},5;x{i % 7}\r\n" for i in range(5000))
    body = gzip.compress((text + "9;1,5\r\n").encode())  # a short row: rows rewritten, padded

    result = submitted(exports_stack, tmp_path / "export.csv.gz", body, {})

    expected = pd.read_csv(io.BytesIO(body), compression="gzip", sep=";", skiprows=1, decimal=",")
    assert_matches_pandas(result, expected)
    assert [c["type"] for c in result["profile"]][:2] == ["integer", "float"]


def test_an_excel_sep_line_before_data_without_a_header(
    exports_stack: SharedStack, tmp_path: Path
) -> None:
    body = b"sep=;\r\n1;2,5\r\n3;4,0\r\n"

    result = submitted(exports_stack, tmp_path / "export.csv", body, {"header": False})

    expected = pd.read_csv(io.BytesIO(body), sep=";", skiprows=1, decimal=",", header=None)
    assert_matches_pandas(result, expected)


def test_a_row_too_long_under_an_excel_sep_line_names_its_line_in_the_file(
    exports_stack: SharedStack, tmp_path: Path
) -> None:
    body = b"sep=;\na;b\n1;2\n3\n4;5;6\n"  # the short row makes rows be rewritten

    error = submitted(exports_stack, tmp_path / "export.csv", body, {})

    assert error["code"] == "ragged_rows"
    assert error["message"].startswith("Line 5 has 3 fields")


@pytest.mark.parametrize(
    "body",
    [
        # R's write.table: row names first, the header without a name for them.
        b'"city" "amount"\n"1" "Paris" 10\n"2" "Lyon" 5\n"3" "Nice" 7\n'.replace(b" ", b","),
        b"sep=;\ncity;amount\nr1;Paris;10\nr2;Lyon;5\n",
        gzip.compress(b"city,amount\n" + b"".join(b"%d,c%d,%d\n" % (i, i, i) for i in range(9000))),
    ],
    ids=["r-write-table", "sep-line", "gzip-many-blocks"],
)
def test_rows_one_field_longer_than_the_header_fail_saying_the_header_lacks_a_name(
    exports_stack: SharedStack, tmp_path: Path, body: bytes
) -> None:
    # pandas would read the first column as the index and shift every name one column left;
    # a profile so shifted would be wrong without a word, so the job fails saying what to fix.
    line = 3 if body.startswith(b"sep=") else 2
    error = submitted(exports_stack, tmp_path / "export.csv", body, {})

    assert error["code"] == "ragged_rows"
    assert error["message"].startswith(f"Line {line} has 3 fields; the header has 2: ")
    assert "seems to lack a name for the first column" in error["message"]
    assert "Add a name for it at the start of the header line" in error["message"]


def test_a_later_row_one_field_longer_is_ragged_as_before(
    exports_stack: SharedStack, tmp_path: Path
) -> None:
    error = submitted(exports_stack, tmp_path / "export.csv", b"a,b\n1,2\nx,3,4\n", {})

    assert error == {"code": "ragged_rows", "message": "Line 3 has 3 fields; the header has 2."}


def test_an_aggregate_reads_under_an_excel_sep_line(
    exports_stack: SharedStack, tmp_path: Path
) -> None:
    body = "sep=;\r\nfruit;price\r\napple;1,5\r\npear;2,25\r\napple;3,0\r\n".encode("cp1252")
    params = {"operation": "aggregate", "group_by": ["fruit"], "metrics": {"price": ["sum"]}}

    result = submitted(exports_stack, tmp_path / "export.csv", body, params)

    expected = pd.read_csv(io.BytesIO(body), sep=";", skiprows=1, decimal=",")
    sums = expected.groupby("fruit")["price"].sum()
    assert {row["fruit"]: row["price_sum"] for row in result["table"]} == sums.to_dict()


def test_an_excel_sep_line_wins_over_the_comma_separated_refusal(
    exports_stack: SharedStack, tmp_path: Path
) -> None:
    # One column whose name and values hold commas, which split every line alike: the job
    # failed "separated by commas" although its first line names `;`.
    body = b"sep=;\r\nPreis,EUR\r\n1,5\r\n2,25\r\n10,0\r\n"

    result = submitted(exports_stack, tmp_path / "export.csv", body, {"decimal": ","})

    expected = pd.read_csv(io.BytesIO(body), sep=";", skiprows=1, decimal=",")
    assert_matches_pandas(result, expected)
    assert [c["type"] for c in result["profile"]] == ["float"]


@pytest.mark.parametrize(
    "body",
    [b"sep=x\na,b\n1,2\n", b'sep="\na,b\n1,2\n', b"sep=\r\na,b\n1,2\n"],
    ids=["letter", "quote", "newline"],
)
def test_an_excel_sep_line_naming_no_usable_delimiter_fails_saying_what_to_fix(
    exports_stack: SharedStack, tmp_path: Path, body: bytes
) -> None:
    error = submitted(exports_stack, tmp_path / "export.csv", body, {})

    assert error["code"] == "unusable_delimiter"
    assert "first line `sep=" in error["message"]
