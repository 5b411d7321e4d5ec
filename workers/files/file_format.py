"""How a stored file is to be read, as `formats.detect_format` decides it from its first bytes."""

from __future__ import annotations

from dataclasses import dataclass

#: Bytes looked at to decide the format, the delimiter and the header.
SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class FileFormat:
    kind: str  # "csv", "jsonl", "parquet" or "spreadsheet"
    gzip: bool = False
    delimiter: str = ","
    header: bool = True
    encoding: str | None = None  # text only: the codec name, "utf-8" needs no transcoding
    bom: int = 0  # bytes of byte-order mark to skip (utf-8); other codecs consume their own
    decimal: str = "."
    names: tuple[str, ...] = ()  # csv: column names, as pandas makes them unique
    #: csv: physical lines before the first row of data, skipped by the reader: the delimiter
    #: hint's (`hint_lines`) and those the header row spans.
    header_lines: int = 1
    hint_lines: int = 0  # csv: 1 when a first line `sep=;` names the delimiter (delimiter_hint)
    pad_rows: bool = False  # csv: rows re-checked in Python, short ones padded with nulls
    #: csv: columns read as text whatever they look like: pyarrow would parse `0x1F` as an
    #: integer where pandas keeps the text.
    text_columns: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        base = "tsv" if self.kind == "csv" and self.delimiter == "\t" else self.kind
        return base + (".gz" if self.gzip else "")
