"""Which legacy code page a non-UTF-8 sample is in, as the user who saved it most likely meant.

charset-normalizer scores each code page's reading by how messy it is and how much it looks like
a language. On a short sample many code pages read equally cleanly, and its first pick is then
often one hardly anyone exports in (a DOS or Mac code page, Korean Johab): `Café;3,50 €` came
out as cp775's `Cafķ;3,50 Ć`. Tables from Western Windows (Excel's "CSV") are Windows-1252 far
more often than anything else, so its reading is kept unless another Windows code page, or a
CJK one, reads the sample better: with letters that fit one of its languages clearly better
than the Windows-1252 reading's fit a Western one (`Dvořák` against `Dvoøák`: `alphabets`), or
with fewer signs of mojibake (symbols glued into words, words mixing scripts, capitals after
small letters) and, in a CJK page, of characters outside the page's everyday core.
"""

from __future__ import annotations

import codecs
import string
import unicodedata
from collections.abc import Iterator

from charset_normalizer import CharsetMatch, from_bytes

from workers.files.alphabets import language_fit, reads_as_one_language

WESTERN = "cp1252"
#: Windows code pages of other alphabets, most common first; an earlier one wins a tie.
NEIGHBOURS = ("cp1250", "cp1251", "cp1253", "cp1254", "cp1257")
#: Multi-byte code pages of Japanese, Chinese and Korean exports, each with the standard core
#: its everyday characters are in: (codec, first and last lead byte of the kana, hangul or
#: most frequent ideographs). A real export's characters are nearly all in that core; a Western
#: file read in the page, or another CJK page's bytes, make rarer ideographs and half-width kana.
CJK = {
    **dict.fromkeys(("cp932", "shift_jis", "shift_jis_2004"), ("shift_jis", 0x81, 0x98)),
    **dict.fromkeys(("gb18030", "gbk", "gb2312"), ("gb2312", 0xA1, 0xF7)),
    **dict.fromkeys(("big5", "cp950", "big5hkscs"), ("big5", 0xA1, 0xC6)),
    **dict.fromkeys(("cp949", "euc_kr"), ("euc_kr", 0xA1, 0xC8)),
}
#: The CJK pages always read, whatever charset-normalizer picks: on a sample of a few lines it
#: often picks a single-byte page that reads the CJK bytes as accented letters.
CJK_PAGES = ("cp932", "gbk", "big5", "cp949")
#: How much better (natural log of the likelihood ratio) another page's reading must fit its
#: languages' letters than the Windows-1252 reading fits the Western ones: 1252 is the common
#: case, and a text with one or two accented letters says little either way.
LANGUAGE_MARGIN = 2.0
#: Punctuation that sits between letters in real words (l’été, aujourd’hui, col·lecció).
_IN_WORDS = frozenset("’‘·‐‑")
#: Unicode name prefixes of one writing system; a word's letters all share one (else Latin).
_SCRIPTS = {
    "CYRILLIC": "Cyrillic",
    "GREEK": "Greek",
    "ARABIC": "Arabic",
    "HEBREW": "Hebrew",
    "THAI": "Thai",
    **dict.fromkeys(
        ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "HALFWIDTH", "FULLWIDTH", "BOPOMOFO"), "CJK"
    ),
}


def detect_legacy(head: bytes) -> str | None:
    """The Python codec name of the code page `head` is most likely in; None if none reads it."""
    best = from_bytes(head).best()
    if best is None:
        return None
    readings = [(page, _reading(head, page)) for page in (WESTERN, *NEIGHBOURS, *CJK_PAGES)]
    if _codec(best) in CJK:  # ahead of the rest: its reading of a Western file mixes scripts
        readings.insert(0, (_codec(best), best))
    candidates = [(page, match) for page, match in readings if match is not None]
    return _likeliest(candidates) if candidates else _codec(best)


def _reading(head: bytes, page: str) -> CharsetMatch | None:
    """charset-normalizer's reading of `head` in `page`; None if it does not decode or is a mess."""
    match = from_bytes(head, cp_isolation=[page]).best()
    return match if match is not None and _codec(match) == page else None


def _codec(match: CharsetMatch) -> str:
    return codecs.lookup(match.encoding).name


def _likeliest(candidates: list[tuple[str, CharsetMatch]]) -> str:
    western = dict(candidates).get(WESTERN)
    for page, match in candidates:
        if western is not None and _fits_its_languages_better(str(western), page, str(match)):
            return page
    # min() keeps the first of equals: the more common code page.
    return min(candidates, key=lambda candidate: _oddities(*candidate))[0]


def _oddities(page: str, match: CharsetMatch) -> int:
    text = str(match)
    return mojibake_signs(text) + _rare_characters(text, page)


def _rare_characters(text: str, page: str) -> int:
    """How many characters of a CJK page's reading are outside that page's everyday core."""
    core = CJK.get(page)
    if core is None:
        return 0
    return sum(1 for char in text if not char.isascii() and not _in_core(char, *core))


def _in_core(char: str, codec: str, first: int, last: int) -> bool:
    try:
        encoded = char.encode(codec)
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2 and first <= encoded[0] <= last


def _fits_its_languages_better(western: str, page: str, rival: str) -> bool:
    if rival == western or not reads_as_one_language(rival, page):
        return False
    return language_fit(rival, page) > language_fit(western, WESTERN) + LANGUAGE_MARGIN


def mojibake_signs(text: str) -> int:
    """How many symbols are glued into words, words mix scripts, and capitals follow a small
    letter through an accented one, in `text`: what reading bytes in the wrong code page leaves
    (`z³` for `zł`, `Cafй` for `Café`, `ŃîŃó` for GBK's `杨洋`)."""
    signs = (_glued_symbols(text), _mixed_words(text), _capitals_after_small(text))
    return sum(sum(1 for _ in found) for found in signs)


def _glued_symbols(text: str) -> Iterator[int]:
    for i, char in enumerate(text):
        if char.isascii() or char.isalpha() or char in _IN_WORDS:
            continue
        before = i > 0 and text[i - 1].isalpha()
        after = i + 1 < len(text) and text[i + 1].isalpha()
        # A symbol touching a word (z³, £ukasz), punctuation inside one (wie¿a, not ¿Qué). Real
        # ones (m², n°) are the same character in every Windows code page, so they tie.
        if (before and after) or ((before or after) and _is_symbol(char)):
            yield i


def _is_symbol(char: str) -> bool:
    kind = unicodedata.category(char)
    return kind[0] == "S" or kind == "No"


def _capitals_after_small(text: str) -> Iterator[int]:
    # Each character of a CJK export read in a Windows code page is two letters from the upper
    # half, small and capital at random (`ŃîŃó`, `TƒVƒƒƒc`): words of real text change case
    # from small to capital only in ASCII names (iPhone, McDonald), which are no sign.
    for i in range(1, len(text)):
        small, capital = text[i - 1], text[i]
        if small.islower() and capital.isupper() and not (small + capital).isascii():
            yield i


def _mixed_words(text: str) -> Iterator[str]:
    word: list[str] = []
    for char in text + " ":
        if char.isalpha():
            word.append(char)
            continue
        if len({_script(letter) for letter in word}) > 1 and not _latin_name_in_cjk(word):
            yield "".join(word)
        word = []


def _latin_name_in_cjk(word: list[str]) -> bool:
    # CJK text writes ASCII names before its words (USB케이블, Tシャツ, U盘). A Western file read
    # in a CJK page instead leaves an ideograph before the rest of a word (`Æsa` as `鱷a`), or a
    # rare one at its end (`Andrés` as `Andr閟`: `_rare_characters`).
    text = "".join(word)
    cjk = text.lstrip(string.ascii_letters)
    return cjk != text and all(_script(letter) == "CJK" for letter in cjk)


def _script(letter: str) -> str:
    prefix = unicodedata.name(letter, "").split(" ", 1)[0]
    return _SCRIPTS.get(prefix, "Latin")
