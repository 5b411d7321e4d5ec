"""Text a person reads back (names, tags, chat): no characters that hide what it says.

Control characters (NUL, the escape sequences that rewrite a terminal), line and paragraph
separators, zero-width spaces and byte-order marks, and the bidirectional overrides that make
text display in another order than it is stored ("Trojan Source") are refused where such text
comes in, rather than stored and broadcast to everyone who reads it. Joiners and the marks that
right-to-left scripts and emoji sequences need are kept.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

#: The bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Invisible characters with no use in a name or a message: zero-width space, word joiner, BOM.
_INVISIBLE = frozenset("\u200b\u2060\ufeff")
#: Control characters, line and paragraph separators.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def hidden_character(text: str, allowed: str = "") -> str | None:
    """The first character of `text` that hides what it says, as `U+XXXX` (None: none is)."""
    for char in text:
        if char in allowed:
            continue
        if (
            char in _BIDI_CONTROLS
            or char in _INVISIBLE
            or unicodedata.category(char) in _HIDDEN_CATEGORIES
        ):
            return f"U+{ord(char):04X}"
    return None


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def escape_controls(text: str, keep: str = "") -> str:
    """`text` with control characters (but those in `keep`) as `\\xNN`, for text kept whatever
    it holds and shown back (a request path in a log line, a name in a terminal): it cannot
    forge or break a line."""
    if text.isprintable():  # the common case, checked in C (a control character is not)
        return text
    return _CONTROL.sub(
        lambda m: m.group() if m.group() in keep else f"\\x{ord(m.group()):02x}", text
    )


def refusal(found: str) -> str:
    """What to tell the sender of a character `hidden_character` found."""
    return f"holds {found}, a control, invisible or bidi-override character: send printable text"


def without_hidden(text: str) -> str:
    """`text` without the characters `hidden_character` refuses: for text that is kept whatever
    it holds (an upload's file name, shown back in lists and terminals)."""
    return "".join(char for char in text if hidden_character(char) is None)


def _visible(text: str) -> str:
    found = hidden_character(text)
    if found is not None:
        raise ValueError(refusal(found))
    if not text.strip():
        raise ValueError("holds only spaces: send something to read")
    return text


#: The refused characters as a regular-expression class (for the schema).
_HIDDEN_CLASS = r"\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff"
#: What the schema says of it: no refused character, and one that is not a space (the validator
#: says which character it was; the pattern cannot).
_PATTERN = rf"^[^{_HIDDEN_CLASS}]*[^\s{_HIDDEN_CLASS}][^{_HIDDEN_CLASS}]*$"

#: A single line of printable text, not only spaces.
VisibleText = Annotated[
    str, AfterValidator(_visible), Field(json_schema_extra={"pattern": _PATTERN})
]
#: VisibleText of 1 to 50 characters (a data item's tag), its length checked first, as a
#: string's ("at most 50 characters"): a Field put on VisibleText inside a list checks it after
#: the validator, and said "at most 50 items".
ShortVisibleText = Annotated[
    str,
    Field(min_length=1, max_length=50),
    AfterValidator(_visible),
    Field(json_schema_extra={"pattern": _PATTERN}),
]
