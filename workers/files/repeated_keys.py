"""JSON Lines whose objects repeat a key (`{"a": 1, "a": 2}`): valid JSON, which pandas'
`read_json` reads keeping the key's last value, but which pyarrow's reader refuses ("specified
twice"). Once it did, the runner reads the file again through `LastValueKept`: each line is
written again by Python's parser, which keeps the last value at any depth. Slower than pyarrow
alone, so only then.
"""

from __future__ import annotations

import json
from typing import BinaryIO

import orjson

from workers.files.streams import Rewritten

#: Bytes of text read per refill.
REWRITE_BYTES = 1 << 20


class LastValueKept(Rewritten):
    """UTF-8 JSON Lines with each line's repeated keys given once, their last value kept (at
    the place of the first, as Python's and pandas' parsers keep them). Numbers are written as
    they came (no float rounds on the way); a line Python cannot parse passes as it is, for
    pyarrow to refuse and name. Past a line longer than `max_line` (a block: pyarrow refuses
    such a line, and this would hold it whole) the rest passes as it is."""

    def __init__(self, utf8: BinaryIO, max_line: int) -> None:
        self._inner, self._max_line = utf8, max_line
        self._partial = b""
        self._verbatim = False

    def _refill(self) -> bytes:
        chunk = self._inner.read(REWRITE_BYTES)
        if self._verbatim or not chunk:
            self._ended = not chunk
            last, self._partial = self._partial, b""
            return chunk if self._verbatim else _rewritten(last)  # a last line with no end
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        out = b"".join(_rewritten(line) + b"\n" for line in lines)
        if len(self._partial) > self._max_line:
            out, self._partial, self._verbatim = out + self._partial, b"", True
        return out


def _rewritten(line: bytes) -> bytes:
    if not line.strip():
        return line
    try:
        # The numbers' own text, and NaN or Infinity kept as written (pyarrow refuses them).
        value = json.loads(
            line,
            parse_int=orjson.Fragment,
            parse_float=orjson.Fragment,
            parse_constant=orjson.Fragment,
        )
        return orjson.dumps(value)
    except (ValueError, RecursionError, orjson.JSONEncodeError):
        return line
