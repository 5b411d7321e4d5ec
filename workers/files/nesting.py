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
_KEPT = b'{}[]"\n'
_DROP = bytes(b for b in range(256) if b not in _KEPT)
_OPENERS = np.zeros(256, dtype=np.int32)
_OPENERS[list(b"{[")] = 1
_OPENERS[list(b"}]")] = -1


class NestingGuard(io.RawIOBase):
    """Passes UTF-8 JSON Lines through, failing as invalid_json once a line nests objects or
    arrays deeper than `max_depth`."""

    def __init__(self, inner: BinaryIO, max_depth: int) -> None:
        self._inner, self.max_depth = inner, max_depth
        self._depth = self._quotes = 0  # at the end of what was read, in the line it ends
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
        deepest, self._depth, self._quotes = _deepest(marks, self._depth, self._quotes)
        if deepest > self.max_depth:
            raise FileJobError(
                "invalid_json",
                f"A line nests objects or arrays more than {self.max_depth} deep; flatten it.",
            )


def _deepest(marks: npt.NDArray[np.uint8], depth: int, quotes: int) -> tuple[int, int, int]:
    """(deepest depth reached, depth at the end, quotes seen in the last line) for `marks`,
    given the depth and quote count carried from the bytes before them."""
    newline = marks == ord("\n")
    seen = np.cumsum(marks == ord('"'), dtype=np.int32) + np.int32(quotes)
    # Counts never decrease, so the running maximum over newlines is the count at the last one.
    seen -= np.maximum.accumulate(np.where(newline, seen, 0))
    step = _OPENERS[marks]
    step[(seen & 1).astype(bool) | newline] = 0  # inside a string, or a line's end
    step[0] += 0 if newline[0] else depth
    total = np.cumsum(step, dtype=np.int32)
    start = np.maximum.accumulate(np.where(newline, np.arange(len(marks), dtype=np.int32), -1))
    levels = total - np.where(start >= 0, total[np.maximum(start, 0)], 0)
    return int(levels.max()), int(levels[-1]), int(seen[-1])
