"""Which lines pandas skips as blank, told from a parsed row, a sample, or a batch pyarrow read."""

from __future__ import annotations

import pyarrow as pa
import pytest

from workers.files.blank_lines import blank_row, check_no_blank_value, has_blank_text_line
from workers.files.errors import FileJobError
from workers.files.file_format import FileFormat

CSV = FileFormat("csv", names=("a",))


def one_column(*values: str | None) -> pa.RecordBatch:
    return pa.record_batch({"a": pa.array(values, pa.string())})


def test_a_row_of_spaces_and_tabs_is_blank_unless_quoted() -> None:
    assert blank_row([" \t "], ",", " \t \n")
    assert not blank_row(["  "], ",", '"  "\n')
    assert not blank_row(["\t"], "\t")  # a tab is the delimiter there, not a blank


def test_a_sample_line_of_spaces_is_found() -> None:
    assert has_blank_text_line("a\n1\n  \n2\n", ",")
    assert not has_blank_text_line("a\tb\n1\t2\n\t\n", "\t")


@pytest.mark.parametrize("value", ["   ", "\t", " \t "])
def test_a_value_of_only_spaces_in_a_one_column_batch_asks_for_the_rows_rewritten(
    value: str,
) -> None:
    with pytest.raises(FileJobError) as found:
        check_no_blank_value(one_column("1", None, value, "2"), CSV)
    assert found.value.code == "blank_line"


@pytest.mark.parametrize(
    ("batch", "fmt"),
    [
        (one_column("x", " y ", "", None), CSV),  # spaces around text, an empty value
        (one_column("1", "  "), FileFormat("csv", names=("a",), pad_rows=True)),  # rewritten
        (pa.record_batch({"a": ["1", "  "], "b": ["2", "3"]}), CSV),  # a value beside others
        (pa.record_batch({"a": pa.array([1, 2])}), CSV),  # numbers hold no spaces
    ],
    ids=["text", "rewritten", "two-columns", "numbers"],
)
def test_other_batches_pass(batch: pa.RecordBatch, fmt: FileFormat) -> None:
    check_no_blank_value(batch, fmt)


def test_a_tab_is_no_blank_in_a_tab_delimited_file() -> None:
    check_no_blank_value(one_column("1", "\t"), FileFormat("csv", delimiter="\t", names=("a",)))
