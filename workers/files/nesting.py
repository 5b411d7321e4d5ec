"""The nesting depth of JSON Lines, checked on the bytes before pyarrow parses them.

pyarrow's JSON type inference takes time quadratic in the depth (a 20 KB line nested 10,000
deep takes minutes), so a deep line must be refused before it reaches the parser. The check is
vectorised: escapes are dropped, everything but brackets, quotes and newlines is deleted, and
numpy finds the depth outside strings on what is left (a small fraction of the bytes).
"""

from __future__ import annotations

import io
import re
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from workers.files.errors import FileJobError

#: Bytes checked at once (numpy's temporaries are a few times this).
CHECK_SLICE = 256 * 1024
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_KEPT = b'{}[]":\n'
_DROP = bytes(b for b in range(256) if b not in _KEPT)
_NEWLINE, _QUOTE, _COLON = (np.uint8(ord(c)) for c in '\n":')
_OPENERS = np.zeros(256, dtype=np.int32)
_OPENERS[list(b"{[")] = 1
_OPENERS[list(b"}]")] = -1


class NestingGuard(io.RawIOBase):
    """Passes UTF-8 JSON Lines through, failing as invalid_json once a line nests objects or
    arrays deeper than `max_depth`, and as too_many_columns once a line's object has more than
    `max_columns` keys (pyarrow would build a column for each)."""

    def __init__(self, inner: BinaryIO, max_depth: int, max_columns: int) -> None:
        self._inner, self.max_depth, self.max_columns = inner, max_depth, max_columns
        self._line = np.zeros(3, dtype=np.int32)  # depth, quotes, keys: where the last read ended
        self._backslash = b""  # a trailing backslash escapes the next read's first byte

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = int(self._inner.readinto(buffer))  # type: ignore[attr-defined]
        view = memoryview(buffer)
        for at in range(0, n, CHECK_SLICE):  # bounds numpy's temporaries
            self._check(bytes(view[at : min(n, at + CHECK_SLICE)]))
        return n

    def _check(self, chunk: bytes) -> None:
        text = _ESCAPE.sub(b"", self._backslash + chunk)
        self._backslash = b"\\" if text.endswith(b"\\") else b""
        marks = np.frombuffer(text.translate(None, _DROP), dtype=np.uint8)
        if not len(marks):
            return
        deepest, widest, self._line = _scan(marks, self._line)
        if deepest > self.max_depth:
            raise FileJobError(
                "invalid_json",
                f"A line nests objects or arrays more than {self.max_depth} deep; flatten it.",
            )
        if widest > self.max_columns:
            raise FileJobError(
                "too_many_columns",
                f"A line has more than {self.max_columns} fields; at most {self.max_columns} "
                "columns are accepted.",
            )


def _scan(marks: npt.NDArray[np.uint8], line: npt.NDArray[np.int32]) -> tuple[int, int, Any]:
    """(deepest depth, most top-level keys in a line, the line state at the end) for `marks`,
    given the state (depth, quotes, keys) of the line the bytes before them ended in."""
    newline = marks == _NEWLINE
    quotes = _in_line(np.cumsum(marks == _QUOTE, dtype=np.int32) + line[1], newline)
    outside = (quotes & 1) == 0
    outside &= ~newline
    step = _OPENERS.take(marks) * outside  # brackets count outside strings only
    step[0] += 0 if newline[0] else line[0]
    total = np.cumsum(step, dtype=np.int32)
    levels = total - _at_last_newline(total, newline)
    key = marks == _COLON
    key &= outside
    key &= levels == 1
    keys = _in_line(np.cumsum(key, dtype=np.int32) + line[2], newline)
    end = np.array([levels[-1], quotes[-1], keys[-1]], dtype=np.int32)
    return int(levels.max()), int(keys.max()), end


def _at_last_newline(values: Any, newline: Any) -> Any:
    """Each position's value at the last newline at or before it (0 before the first)."""
    ends = np.flatnonzero(newline)
    bases = np.concatenate(([0], values[ends]))
    return np.repeat(bases, np.diff(ends, prepend=0, append=len(values)))


def _in_line(counts: Any, newline: Any) -> Any:
    """Running counts restarted at each newline."""
    return counts - _at_last_newline(counts, newline)
