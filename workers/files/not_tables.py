"""What a file that is not a table (as read here) is told: what it is, when its bytes say so.

A file with NUL bytes was told only that it is binary: a bzip2 or xz CSV, a gzipped Parquet
file and UTF-16 text without a byte-order mark all have them, and each has a remedy.
"""

from __future__ import annotations

import re

from workers.files.errors import FileJobError

#: Compressions whose streams start with these bytes, which are not read (gzip is). bzip2's
#: `BZh` could start a CSV header, so its block size digit and first block's magic (or the
#: end-of-stream one, when empty) are matched too.
OTHER_COMPRESSIONS = {
    re.compile(rb"BZh[1-9](\x31\x41\x59\x26\x53\x59|\x17\x72\x45\x38\x50\x90)"): (
        "bzip2",
        "bunzip2",
    ),
    re.compile(rb"\xfd7zXZ\x00"): ("xz", "unxz"),
    re.compile(rb"\x28\xb5\x2f\xfd"): ("zstd", "unzstd"),
}
PARQUET_MAGIC = b"PAR1"
#: Of the bytes at odd (or even) offsets, the share that is NUL in UTF-16 text of mostly Latin
#: letters, digits and punctuation (each one such byte and a NUL); the other offsets' bytes
#: are then almost never NUL.
_UTF16_NULS = 0.5
_UTF16_OTHER_NULS = 0.05

#: How an HTML or XML document starts (after any byte-order mark and blank space). Read as CSV,
#: a web page saved under a table's name (the sign-in or error page a download returned, or the
#: HTML table many "Export to Excel" buttons write) made one column of markup lines, or failed
#: as ragged rows at its first comma.
_MARKUP = re.compile(r"\ufeff?\s*<(!doctype\s+html|html|head|body|table|\?xml)\b", re.IGNORECASE)

BINARY = (
    "The file is binary, not CSV, TSV, JSON Lines, Parquet or a spreadsheet "
    "(it contains NUL bytes)."
)


def other_compression(head: bytes) -> FileJobError | None:
    """A bzip2, xz or zstd file's refusal, naming its compression; None for any other."""
    for magic, (name, tool) in OTHER_COMPRESSIONS.items():
        if magic.match(head):
            return FileJobError(
                "unrecognized_format",
                f"The file is {name}-compressed, which is not read: only gzip is (of CSV, TSV "
                f"and JSON Lines). Decompress it ({tool}) or gzip it, and send that.",
            )
    return None


def binary_failure(head: bytes, gzipped: bool) -> FileJobError:
    """The refusal of text with NUL bytes in it: a gzipped Parquet file, UTF-16 without a
    byte-order mark (its encoding is to be named), or else a binary file."""
    if gzipped and head.startswith(PARQUET_MAGIC):
        return FileJobError(
            "unrecognized_format",
            "The file is a gzipped Parquet file: Parquet compresses its own data, and is read "
            "only as it is. Decompress it (gunzip) and send the .parquet file.",
        )
    order = utf16_order(head)
    if order is not None:
        return FileJobError(
            "invalid_encoding",
            f"The file looks like UTF-16 ({order}-endian) text without a byte-order mark, "
            f'which cannot be told from its bytes for sure: send it with encoding "utf-16-'
            f'{order[0]}e", or save it as UTF-8.',
        )
    return FileJobError("unrecognized_format", BINARY)


def utf16_order(head: bytes) -> str | None:
    """ "little" or "big" when the bytes read as UTF-16 of that order: NUL every other byte,
    at odd offsets (little-endian) or even ones (big-endian); None otherwise."""
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even = head[0 : 2 * pairs : 2].count(0) / pairs
    odd = head[1 : 2 * pairs : 2].count(0) / pairs
    if odd >= _UTF16_NULS and even <= _UTF16_OTHER_NULS:
        return "little"
    if even >= _UTF16_NULS and odd <= _UTF16_OTHER_NULS:
        return "big"
    return None


def markup_failure(text: str) -> FileJobError | None:
    """The refusal of a decoded sample that is an HTML page or an XML document; None for any
    other text."""
    found = _MARKUP.match(text)
    if found is None:
        return None
    if found.group(1) == "?xml":
        return FileJobError(
            "unrecognized_format",
            "The file is an XML document, not CSV, TSV, JSON Lines, Parquet or a spreadsheet "
            '(Excel\'s "XML Spreadsheet 2003" is one): open it in a spreadsheet and save it as '
            "CSV or .xlsx.",
        )
    return FileJobError(
        "unrecognized_format",
        "The file is an HTML page, not a table: a download that returned a web page (a sign-in "
        "or error page), or an HTML table saved under a spreadsheet's name, as \"Export to "
        'Excel" buttons often write. Download the data again, or open the page in a spreadsheet '
        "and save it as CSV or .xlsx.",
    )
