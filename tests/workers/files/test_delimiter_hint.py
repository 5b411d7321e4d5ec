"""Excel's `sep=` first line: the delimiter it names, and the lines it takes."""

from __future__ import annotations

import pytest

from workers.files.delimiter_hint import NO_HINT, read_hint
from workers.files.errors import FileJobError


@pytest.mark.parametrize(
    ("text", "delimiter", "line"),
    [
        ("sep=;\r\na;b\r\n", ";", "sep=;\r\n"),
        ("sep=,\na,b\n", ",", "sep=,\n"),
        ("sep=\t\ra\tb\r", "\t", "sep=\t\r"),
        ("\ufeffsep=|\na|b\n", "|", "\ufeffsep=|\n"),
        ("sep=;\na;b", ";", "sep=;\n"),
    ],
    ids=["crlf", "lf", "tab-cr", "bom-char", "no-last-line-end"],
)
def test_a_first_line_sep_and_one_character_names_the_delimiter(
    text: str, delimiter: str, line: str
) -> None:
    hint = read_hint(text, None)
    assert (hint.delimiter, hint.line, hint.lines) == (delimiter, line, 1)


@pytest.mark.parametrize(
    "text",
    ["a;b\n1;2\n", "sep=;;\na;b\n", "sep=; \na;b\n", "SEP=;\na;b\n", "x\nsep=;\n", "sep"],
    ids=["none", "two-characters", "trailing-space", "upper-case", "second-line", "prefix"],
)
def test_anything_else_is_no_hint(text: str) -> None:
    assert read_hint(text, None) == NO_HINT
    assert NO_HINT.lines == 0


@pytest.mark.parametrize(
    "text",
    ["sep=x\n", "sep=7\n", 'sep="\n', "sep=\r\n", "sep=\n", "sep=é\n"],
    ids=["letter", "digit", "quote", "crlf", "lf", "not-ascii"],
)
def test_a_hint_naming_no_usable_delimiter_fails_saying_what_to_fix(text: str) -> None:
    with pytest.raises(FileJobError) as failure:
        read_hint(text, None)
    assert failure.value.code == "unusable_delimiter"
    assert "first line" in failure.value.message


def test_a_hint_naming_the_given_decimal_fails() -> None:
    with pytest.raises(FileJobError) as failure:
        read_hint("sep=,\na,b\n", ",")
    assert failure.value.code == "unusable_delimiter"


@pytest.mark.parametrize("text", ["sep=;", "sep=;\r\n", "sep=;\n\n  \n"])
def test_a_hint_with_nothing_under_it_is_an_empty_file(text: str) -> None:
    with pytest.raises(FileJobError) as failure:
        read_hint(text, None)
    assert failure.value.code == "empty_file"
