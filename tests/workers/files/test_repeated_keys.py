"""JSON Lines objects that repeat a key read as pandas' `read_json` reads them: the last value
kept (pyarrow alone refused them as not valid JSON)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from jobcast.jobs.params import JobParams
from tests.workers.files.pandas_compare import assert_matches_pandas, run_profile
from workers.files import repeated_keys
from workers.files.errors import FileJobError
from workers.files.repeated_keys import LastValueKept


def write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "upload.jsonl"
    path.write_bytes(content)
    return path


def rewritten(content: bytes, max_line: int = 1 << 20) -> bytes:
    return LastValueKept(io.BytesIO(content), max_line).read()


def test_a_repeated_key_keeps_its_last_value_as_pandas_reads_it(tmp_path: Path) -> None:
    body = b'{"a": 1, "b": "x", "a": 2}\n{"a": 3, "b": "y"}\n\n{"b": "z", "a": 4, "a": 5.5}\n'
    path = write(tmp_path, body)

    result = run_profile(path)
    run_profile(path, JobParams(operation="convert", to="parquet"))

    expected = pd.read_json(io.BytesIO(body), lines=True)
    assert expected["a"].tolist() == [2, 3, 5.5]
    assert_matches_pandas(result, expected)
    converted = pq.read_table(tmp_path / "artifact.out").to_pandas()
    pd.testing.assert_frame_equal(converted, expected)


def test_a_key_repeated_inside_a_nested_object_keeps_its_last_value_too(tmp_path: Path) -> None:
    body = b'{"o": {"x": 1, "x": 2}, "n": 1}\n{"o": {"x": 3}, "n": 2}\n'
    path = write(tmp_path, body)

    run_profile(path, JobParams(operation="convert", to="csv"))

    back = pd.read_csv(tmp_path / "artifact.out")
    expected = pd.read_json(io.BytesIO(body), lines=True)
    assert [json.loads(cell) for cell in back["o"]] == expected["o"].tolist()


def test_a_repeated_key_far_down_the_file_still_names_a_bad_line_by_its_number(
    tmp_path: Path,
) -> None:
    # Read again (past the first block) through the rewrite: lines keep their numbers.
    body = b'{"a": 1}\n' * 20_000 + b'{"a": 1, "a": 2}\n\n{"a": }\n'
    path = write(tmp_path, body)

    with pytest.raises(FileJobError, match=r"^Line 20003 is not valid JSON") as failure:
        run_profile(path)

    assert failure.value.code == "invalid_json"


def test_lines_are_written_again_with_numbers_as_they_came() -> None:
    line = b'{"a": 0.1, "big": 123456789012345678901234, "a": 1e400, "s": "\\u00e9\\"", "n": null}'

    assert (
        rewritten(line + b"\r\n")
        == b'{"a":1e400,"big":123456789012345678901234,"s":"\xc3\xa9\\"","n":null}\n'
    )


def test_blank_lines_and_lines_python_cannot_parse_pass_as_they_are() -> None:
    body = b'{"a": 1, "a": 2}\n\n   \n{"a": }\n[1, 1]\n{"a": 3, "a": 4}'

    assert rewritten(body) == b'{"a":2}\n\n   \n{"a": }\n[1,1]\n{"a":4}'


def test_lines_split_across_reads_are_written_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repeated_keys, "REWRITE_BYTES", 7)
    body = b'{"key": "value", "key": "last"}\n{"k": [1, 2, 3], "k": []}\n'

    assert rewritten(body) == b'{"key":"last"}\n{"k":[]}\n'


def test_past_a_line_longer_than_a_block_the_rest_passes_as_it_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pyarrow refuses such a line ("too long to read in one piece"): it is not held whole.
    monkeypatch.setattr(repeated_keys, "REWRITE_BYTES", 16)
    long_line = b'{"a": "' + b"x" * 100 + b'", "a": 1}\n'
    body = b'{"a": 1, "a": 2}\n' + long_line + b'{"a": 3, "a": 4}\n'

    assert rewritten(body, max_line=64) == b'{"a":2}\n' + long_line + b'{"a": 3, "a": 4}\n'


def test_a_repeated_key_the_rewrite_left_fails_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A line Python could not write again passes as it came: pyarrow refuses it once more.
    monkeypatch.setattr(repeated_keys, "_rewritten", lambda line: line)
    path = write(tmp_path, b'{"o": {"x": 1, "x": 2}}\n')

    with pytest.raises(FileJobError) as failure:
        run_profile(path)

    assert failure.value.code == "invalid_json"
    assert failure.value.message == "An object repeats the key 'o.x'; give it once."
