"""Text a person reads back (names, tags, chat): no characters that hide what it says.

Control characters (NUL, the escape sequences that rewrite a terminal) and the bidirectional
overrides that make text display in another order than it is stored ("Trojan Source") are
refused where such text comes in, rather than stored and broadcast to everyone who reads it.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

#: The bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def hidden_character(text: str, allowed: str = "") -> str | None:
    """The first character of `text` that hides what it says, as `U+XXXX` (None: none is)."""
    for char in text:
        if char in allowed:
            continue
        if char in _BIDI_CONTROLS or unicodedata.category(char) == "Cc":
            return f"U+{ord(char):04X}"
    return None


def _visible(text: str) -> str:
    found = hidden_character(text)
    if found is not None:
        raise ValueError(f"holds {found}, a control character: send printable text")
    return text


#: What the schema says of it (the validator says which character, the pattern cannot).
_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*$"

#: A single line of printable text.
VisibleText = Annotated[
    str, AfterValidator(_visible), Field(json_schema_extra={"pattern": _PATTERN})
]
