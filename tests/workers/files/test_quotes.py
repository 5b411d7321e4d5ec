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
