"""A CSV parsed on two threads gives the streaming reader's very batches, or hands over to it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pytest

from jobcast.jobs.params import JobParams
from workers.files.errors import FileJobError
from workers.files.formats import detect_format
from workers.files.parallel_csv import _ends_in_quotes
from workers.files.readers import _open_streaming, open_batches
from workers.files.sources import BatchSource, ReadLimits

LIMITS = ReadLimits(block_size=64 << 10, max_decompressed=1 << 30, max_columns=50)


def drain(source: BatchSource) -> tuple[list[pa.RecordBatch], list[int]]:
    """The batches, and the stored bytes behind each prefix of them, as the runner asks."""
    batches, done, rows = [], [], 0
    try:
        for count, batch in enumerate(source.batches, 1):
            rows += batch.num_rows
            batches.append(batch)
            done.append(source.processed(count, rows))
    finally:
        source.close()
    return batches, done


def assert_read_as_streaming(
    path: Path, parallel: bool = True, handover: bool | None = None
) -> None:
    """Same batches, same bytes behind them; `parallel`: read by ranges from the start;
    `handover` (when said): whether the streaming reader had to take over further down."""
    fmt = detect_format(path, JobParams(), LIMITS.max_columns)
    source = open_batches(path, fmt, LIMITS)
    assert (type(source.raw).__module__ == "workers.files.parallel_csv") == parallel
    ours, ours_done = drain(source)
    if handover is not None:
        assert (source.raw.handover.source is not None) == handover  # type: ignore[attr-defined]
    theirs, theirs_done = drain(_open_streaming(path, fmt, LIMITS, path.stat().st_size))
    assert [b.num_rows for b in ours] == [b.num_rows for b in theirs]
    assert all(a.equals(b) and a.schema == b.schema for a, b in zip(ours, theirs, strict=True))
    assert ours_done == theirs_done


def rows(count: int, start: int = 0) -> str:
    return "".join(
        f'{i},"name {i % 97}",{i * 0.5},2024-01-{1 + i % 28:02d}\n' for i in range(start, count)
    )


def test_a_file_of_many_blocks_gives_the_streaming_readers_batches(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,name,x,day\n" + rows(60_000))
    assert_read_as_streaming(path)


def test_a_file_ending_without_a_newline_or_on_a_block_end(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    text = "id,name,x,day\n" + rows(30_000)
    path.write_text(text.rstrip("\n"))
    assert_read_as_streaming(path)
    size = 5 * LIMITS.block_size
    head = text[: text.rindex("\n", 0, size - 40) + 1]
    last = "7,{},1.5,2024-01-01\n"
    path.write_text(head + last.format("n" * (size - len(head) - len(last) + 2)))
    assert path.stat().st_size == size
    assert_read_as_streaming(path)


def test_quoted_newlines_further_down_hand_over_to_the_streaming_reader(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "id,name,x,day\n" + rows(20_000) + '1,"two\nlines",1.5,2024-01-01\n' + rows(40_000, 20_000)
    )
    assert_read_as_streaming(path)


def test_empty_lines_give_the_same_batches(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,name,x,day\n" + rows(20_000) + "\n\n" + rows(40_000, 20_000))
    assert_read_as_streaming(path)


def test_crlf_and_cr_line_ends_are_cut_where_the_streaming_reader_cuts(tmp_path: Path) -> None:
    """Windows (CRLF) and old Mac (CR) files on two threads too. Headers of 40 lengths move
    every block end over every place in a row, a CR and its LF included."""
    path = tmp_path / "t.csv"
    split = 0
    for pad in range(40):
        text = f"id{'_' * pad},name,x,day\n" + rows(10_000)
        for line_end in ("\r\n", "\r"):
            data = text.replace("\n", line_end).encode()
            path.write_bytes(data)
            assert_read_as_streaming(path, handover=False)
        block_ends = range(LIMITS.block_size, len(data), LIMITS.block_size)
        crlf = text.replace("\n", "\r\n").encode()
        split += sum(crlf[end - 1 : end + 1] == b"\r\n" for end in block_ends)
    assert split > 0  # some block did end between a CR and its LF


def test_a_crlf_inside_a_quoted_value_further_down_hands_over(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    text = "id,name,x,day\n" + rows(20_000) + '1,"two\nlines",1.5,2024-01-01\n' + rows(30_000)
    path.write_bytes(text.replace("\n", "\r\n").encode())
    assert_read_as_streaming(path, handover=True)


def test_a_quoted_newline_in_the_first_block_leaves_it_to_the_streaming_reader(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.csv"
    path.write_text('id,name,x,day\n1,"two\nlines",1.5,2024-01-01\n' + rows(40_000))
    assert_read_as_streaming(path, parallel=False)


def test_a_type_change_further_down_fails_as_in_the_streaming_reader(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,name,x,day\n" + rows(30_000) + "oops,a,1,2024-01-01\n" + rows(40_000))
    fmt = detect_format(path, JobParams())
    errors = []
    for source in (open_batches(path, fmt, LIMITS), _open_streaming(path, fmt, LIMITS, 1)):
        with pytest.raises(FileJobError) as failure:
            drain(source)
        errors.append((failure.value.code, failure.value.message, failure.value.column))
    assert errors[0] == errors[1]
    assert errors[0][0] == "column_type_changed"


def test_a_cell_over_the_cap_further_down_fails_as_in_the_streaming_reader(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,name,x,day\n" + rows(30_000) + f"1,{'n' * 5000},1,2024-01-01\n" + rows(9))
    fmt = detect_format(path, JobParams())
    limits = replace(LIMITS, max_cell_bytes=4096)
    errors = []
    for source in (open_batches(path, fmt, limits), _open_streaming(path, fmt, limits, 1)):
        with pytest.raises(FileJobError) as failure:
            drain(source)
        errors.append((failure.value.code, failure.value.message))
    assert errors[0] == errors[1]
    assert errors[0][0] == "memory_limit"


@pytest.mark.parametrize(
    ("line", "quoted"),
    [
        (b"1,2,3", False),
        (b'1,"a",3', False),
        (b'1,"a', True),
        (b'1,"a""b', True),
        (b'1,"a""b"', False),
        (b'1,a"b', False),
        (b'1,"a"b"c', False),  # after the closing quote, plain text: the next quote is text
        (b'1,"a,b', True),
    ],
)
def test_a_line_ends_inside_quotes_as_pyarrows_lexer_says(line: bytes, quoted: bool) -> None:
    assert _ends_in_quotes(line, ord(",")) is quoted


def test_an_excel_sep_line_is_skipped_by_the_ranges_too(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("sep=,\nid,name,x,day\n" + rows(60_000))
    assert_read_as_streaming(path)
    fmt = detect_format(path, JobParams(), LIMITS.max_columns)
    source = open_batches(path, fmt, LIMITS)
    try:
        first = next(source.batches)
    finally:
        source.close()
    assert first.schema.names == ["id", "name", "x", "day"]
    assert first.column("id")[0].as_py() == 0
