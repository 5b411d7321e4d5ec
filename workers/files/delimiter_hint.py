"""Excel's delimiter hint: a first line `sep=;` naming the delimiter of the lines below it.

Excel writes it (and so do tools exporting for Excel users) and reads it, skipping the line.
pandas does not: it read `sep=` as the only column's name, the real header as a row, and so
every figure of the profile wrong. We honour it, a deliberate difference from pandas (README):
the line says what the file is in so many words, where sniffing only guesses.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from workers.files.errors import FileJobError

#: The hint: `sep=` and what follows it up to the line end (or the end of the text), after an
#: optional byte-order mark that the text's codec kept.
_HINT = re.compile(r"\ufeff?sep=([^\r\n]*)(\r\n|\r|\n|$)")
#: What a hint may name: punctuation, space or tab; not a quote, which opens quoted values.
#: ASCII only, as pyarrow splits the UTF-8 text on one byte.
USABLE = frozenset(string.punctuation + " \t") - {'"'}


@dataclass(frozen=True)
class DelimiterHint:
    delimiter: str | None = None  # None: the file has no hint
    line: str = ""  # the hint's text, its line end included, as the sample starts with it

    @property
    def lines(self) -> int:
        """Physical lines the hint takes: skipped before the header (or the first row)."""
        return 1 if self.line else 0


NO_HINT = DelimiterHint()


def read_hint(text: str, decimal: str | None) -> DelimiterHint:
    """The hint `text` (the decoded sample) starts with, or NO_HINT; FileJobError when it names
    no delimiter the job can split on, or the `decimal` the params give, or is all there is."""
    found = _HINT.match(text)
    if found is None or len(found.group(1)) > 1:
        return NO_HINT  # `sep=;;` is no hint Excel reads either: it is read as a row
    delimiter = found.group(1)
    if delimiter not in USABLE:
        raise _unusable(f"{delimiter!r}" if delimiter else "a line end")
    if delimiter == decimal:
        raise FileJobError(
            "unusable_delimiter",
            f'The first line `sep={delimiter}` names "{delimiter}" as the delimiter, but the file '
            f'was sent with decimal "{decimal}"; a character cannot be both. Send it without '
            "`decimal` (it is then detected), or export it with another delimiter.",
        )
    if not text[found.end() :].strip():
        raise FileJobError("empty_file", "The file holds no data under its `sep=` line.")
    return DelimiterHint(delimiter, found.group(0))


def _unusable(named: str) -> FileJobError:
    return FileJobError(
        "unusable_delimiter",
        f"The first line `sep=…` names {named} as the delimiter, which cannot separate values: "
        "fix that line to name the delimiter (`sep=;`, `sep=,`, `sep=|` or a tab), or remove it "
        "to have the delimiter detected.",
    )
