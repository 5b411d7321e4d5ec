"""Files as exports and downloads leave them, end to end through an api and a files worker:
read as pandas reads the same bytes, or refused saying what the file is."""

from __future__ import annotations

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
    path.write_bytes(body)
    jobs = JobsClient(stack.url, stack.new_key("exporter")[0])
    try:
        job_id = jobs.submit_ok(path, json.dumps({}))
        if await_terminal(stack.redis, job_id)["type"] == "job.failed":
            return jobs.job(job_id)["error"]
        return jobs.result(job_id)
    finally:
        jobs.http.close()


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
