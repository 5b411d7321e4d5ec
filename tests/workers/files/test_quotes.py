"""Where a quoted value closes, as pandas' parser closes it, however the text is read in chunks."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from workers.files import quotes

#: What follows an opening quote: `""` is a quote inside the value, a lone one closes it.
AFTER_THE_QUOTE = [
    b"a",
    b"a\nb,c\n",
    b'a"',
    b'a""',
    b'a"""',
    b'a""b',
    b'a"""b',
    b'a""""',
    b'a"""""\nb',
    b'""',
    b'"',
    b'x\n""\n""y\n',
    b'x\n""\n"y\n',
]


def pandas_closes(after: bytes) -> bool:
    try:
        pd.read_csv(io.BytesIO(b'"' + after), header=None)
    except pd.errors.ParserError as exc:
        if "EOF inside string" in str(exc):
            return False
        raise
    return True


@pytest.mark.parametrize("chunk", [1, 2, 3, 1 << 20])
@pytest.mark.parametrize("after", AFTER_THE_QUOTE)
def test_a_quoted_value_closes_where_pandas_closes_it_whatever_the_chunks(
    monkeypatch: pytest.MonkeyPatch, after: bytes, chunk: int
) -> None:
    monkeypatch.setattr(quotes, "SCAN_CHUNK", chunk)
    assert quotes.closes(io.BytesIO(b"skipped" + after), len(b"skipped")) is pandas_closes(after)


@pytest.mark.parametrize(
    ("text", "value", "where"),
    [
        ('"a\nb', "a\nb", (1, 1)),
        ('x,"a\r\nb', "a\r\nb", (1, 3)),
        ('\r\rx;"a\rb""c', 'a\rb"c', (3, 3)),
        ('x,"a b', "a b", None),  # on one line: the first line itself is long
    ],
    ids=["first-column", "crlf", "bare-cr-and-a-pair", "one-line"],
)
def test_where_a_quote_taking_in_line_ends_opened_is_its_line_and_column(
    text: str, value: str, where: tuple[int, int] | None
) -> None:
    assert quotes.opened_on_lines(text, value) == where
