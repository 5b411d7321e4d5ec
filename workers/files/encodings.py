"""Which text encoding a file is in, and a stream that turns it into the UTF-8 pyarrow reads.

UTF-8 (with or without a byte-order mark) and UTF-16 with a BOM are recognised from the bytes;
anything else that is not UTF-8 is a legacy code page (`code_pages`), unless the params name
the encoding. pandas would instead fail on a non-UTF-8 file (its default is `encoding="utf-8"`).
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from typing import Any, BinaryIO

from workers.files.code_pages import detect_legacy
from workers.files.errors import FileJobError

UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
#: What to try when a codec that needs a byte-order mark finds none.
_BOM_HINTS = {
    "utf-16": "without a byte-order mark, `utf-16-le` or `utf-16-be` may read it; else ",
    "utf-32": "without a byte-order mark, `utf-32-le` or `utf-32-be` may read it; else ",
}


@dataclass(frozen=True)
class DecodedHead:
    text: str
    encoding: str  # a Python codec name; "utf-8" is read as it is
    bom: int = 0  # bytes of a UTF-8 byte-order mark to skip


def decode_head(head: bytes, given: str | None) -> DecodedHead:
    """The sample as text and the encoding it is in; FileJobError if it is in none we know."""
    if given is not None:
        name = _codec(given)
        if name == "utf-8" and head.startswith(UTF8_BOM):
            return DecodedHead(_decode(head[3:], name), name, 3)
        return DecodedHead(_decode(head, name), name)
    if head.startswith(UTF8_BOM):
        return DecodedHead(_decode(head[3:], "utf-8"), "utf-8", 3)
    if head.startswith(UTF16_BOMS):
        return DecodedHead(_decode(head, "utf-16"), "utf-16")
    try:
        return DecodedHead(_decode(head, "utf-8"), "utf-8")
    except FileJobError:
        pass  # not UTF-8: detected below
    detected = _detect(head)
    return DecodedHead(_decode(head, detected), detected)


def _codec(given: str) -> str:
    try:
        return codecs.lookup(given).name
    except LookupError:
        raise FileJobError(
            "invalid_encoding",
            f"Unknown encoding {given!r}: name a Python codec such as cp1252, latin-1 or utf-16.",
        ) from None


def _decode(head: bytes, encoding: str) -> str:
    """`head` decoded; a character cut by the sample's end is not an error."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        return str(decoder.decode(head, final=False))
    except UnicodeError as exc:
        # Not only an invalid byte: UTF-16 and UTF-32 without a byte-order mark fail too.
        raise _not_text(f"The file is not {encoding} text{_at(exc)}", encoding) from exc


def _at(exc: UnicodeError) -> str:
    return f" (invalid byte at offset {exc.start})" if isinstance(exc, UnicodeDecodeError) else ""


def _not_text(problem: str, encoding: str) -> FileJobError:
    hint = _BOM_HINTS.get(encoding, "")
    return FileJobError(
        "invalid_encoding",
        f"{problem}; {hint}name its encoding in the params (`encoding`) or re-save it as UTF-8.",
    )


def _detect(head: bytes) -> str:
    detected = detect_legacy(head)
    if detected is None:
        raise FileJobError(
            "invalid_encoding",
            "The file is not UTF-8 text and its encoding could not be recognised; name it in "
            'the params (`encoding`, e.g. "cp1252") or re-save it as UTF-8.',
        )
    return detected


class Utf8Transcoder(io.RawIOBase):
    """The text of `raw` (in `encoding`) as UTF-8 bytes, decoded a chunk at a time."""

    def __init__(self, raw: BinaryIO, encoding: str, chunk: int = 1 << 20) -> None:
        self._raw, self._chunk = raw, chunk
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        self._encoding, self._pending, self._done = encoding, b"", False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._done:
            data = self._raw.read(self._chunk)
            self._done = not data
            try:
                text = self._decoder.decode(data, final=self._done)
            except UnicodeError as exc:
                problem = f"The file is not {self._encoding} text further down"
                raise _not_text(problem, self._encoding) from exc
            self._pending = text.encode("utf-8")
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n
