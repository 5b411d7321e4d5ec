"""How well a text's letters beyond ASCII fit the languages written in a code page.

Read in the wrong Windows code page, a Czech or Hungarian export still decodes to letters
(`Dvořák` as `Dvoøák`, `Szőke` as `Szõke`), and charset-normalizer often names a language for
either reading. What gives it away is which letters come together: `ø` with `á`, `ì` and `ù`
belongs to no Western language, while `ř`, `á` and `ě` are ordinary Czech. Each language is
scored by how often it uses the letters found (rank in its own alphabet, most frequent first),
and a code page by the language that explains the text best.
"""

from __future__ import annotations

import math
from collections import Counter
from functools import cache

#: Letters beyond ASCII of the languages exported in each Windows code page, most frequent
#: first. Rough ranks are enough: the score only has to tell `č` in Czech from `è` in French.
ALPHABETS: dict[str, tuple[str, str]] = {
    "French": ("cp1252", "éàèêçûùâîôœëï"),
    "German": ("cp1252", "üäöß"),
    "Spanish": ("cp1252", "óíáéñúü"),
    "Portuguese": ("cp1252", "ãçéáêóíõôâúàü"),
    "Italian": ("cp1252", "àèéùòì"),
    "Catalan": ("cp1252", "éàèòíóçúïü"),
    "Dutch": ("cp1252", "éëïèöü"),
    "Danish and Norwegian": ("cp1252", "åøæé"),
    "Swedish": ("cp1252", "äåöé"),
    "Finnish": ("cp1252", "äöåšž"),
    "Icelandic": ("cp1252", "ðáíþóýæöéú"),
    "Czech": ("cp1250", "íěýážšéčřůúňóďť"),
    "Slovak": ("cp1250", "áíéýčúžšľťôňóďäĺŕ"),
    "Polish": ("cp1250", "łóężśćąńź"),
    "Hungarian": ("cp1250", "éáöóőíüúű"),
    "Croatian": ("cp1250", "čšžćđ"),
    "Slovene": ("cp1250", "čšž"),
    "Romanian": ("cp1250", "ăîşţâ"),
    "Turkish": ("cp1254", "ıüşğçö"),
    "Lithuanian": ("cp1257", "ėųšįžąūčę"),
    "Latvian": ("cp1257", "āēīšūņļžčķģ"),
    "Estonian": ("cp1257", "äõüöšž"),
}
#: The share of a text's letters beyond ASCII a language may lack and still be the one it is
#: written in (a foreign name among Czech ones). A CJK export read in a Windows page is letters
#: from all over the page, half of them strangers to any one language.
FOREIGN_SHARE = 0.1
#: The chance a language gives a character outside its alphabet (another language's letter,
#: a symbol): well below its rarest letter's, so one stray `ø` in a Czech-looking text counts.
_STRANGER = 0.002


def language_fit(text: str, page: str) -> float:
    """How likely `text`'s characters beyond ASCII are in the language of `page` that fits it
    best (a log-probability; -inf when no language here is written in `page`)."""
    found = Counter(char for char in text if not char.isascii())
    scores = (
        sum(count * _log_chance(letters, char) for char, count in found.items())
        for language_page, letters in ALPHABETS.values()
        if language_page == page
    )
    return max(scores, default=-math.inf)


def reads_as_one_language(text: str, page: str) -> bool:
    """Whether one language written in `page` has nearly all of `text`'s letters beyond ASCII."""
    letters = [char.lower() for char in text if char.isalpha() and not char.isascii()]
    return any(
        sum(1 for letter in letters if letter not in alphabet) <= FOREIGN_SHARE * len(letters)
        for language_page, alphabet in ALPHABETS.values()
        if language_page == page
    )


@cache
def _log_chance(letters: str, char: str) -> float:
    # Zipf's law: a language's n-th most frequent letter turns up about 1/n as often as its first.
    rank = letters.find(char.lower()) + 1
    if rank == 0:
        return math.log(_STRANGER)
    harmonic = sum(1 / n for n in range(1, len(letters) + 1))
    return math.log(1 / rank / harmonic)
