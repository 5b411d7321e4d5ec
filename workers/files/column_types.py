"""A CSV column's type decided from all of its values, as pandas does, not from the first block.

pyarrow's streaming reader fixes each column's type from the first block; a sparse column
(empty there) or one that turns from integers to decimals further down then fails to convert.
When that happens the runner scans the file once with every column as text, folds each block's
type into the column's, and reads again with those types.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from workers.files.errors import FileJobError
from workers.files.file_format import FileFormat
from workers.files.readers import convert_options, text_stream
from workers.files.sources import ReadLimits
from workers.files.streams import BlockLedger

#: How a scanned JSON type is named to the owner; integers and decimals are one kind (float64).
_KINDS = {
    pa.int64(): "number",
    pa.uint64(): "number",
    pa.float64(): "number",
    pa.bool_(): "true/false",
    pa.string(): "text",
    pa.binary(): "object or array",
}
_NUMBERS = {pa.int64(), pa.uint64(), pa.float64()}
_BOOLEANS = ["True", "TRUE", "true", "False", "FALSE", "false"]
_INTEGER = r"^[+-]?\d+$"
#: Python decodes an escaped surrogate pair to its one character: any surrogate left was alone.
_SURROGATE = re.compile("[\ud800-\udfff]")


def scan_types(path: Path, fmt: FileFormat, limits: ReadLimits) -> dict[str, pa.DataType]:
    """Each column's type over the whole file: null, int64, uint64, float64, bool, timestamp or
    string."""
    types: dict[str, pa.DataType] = dict.fromkeys(fmt.names, pa.null())
    raw = path.open("rb")
    ledger = BlockLedger(text_stream(raw, fmt, limits), raw)  # closes `raw`
    try:
        for done, batch in enumerate(_as_text(ledger, fmt, limits), 1):
            for name, values in zip(fmt.names, batch.columns, strict=True):
                if not pa.types.is_string(types[name]):
                    types[name] = widen(types[name], block_type(values, fmt.decimal))
            ledger.processed(done)
    finally:
        ledger.close()
    return types


def _as_text(stream: BlockLedger, fmt: FileFormat, limits: ReadLimits) -> Any:
    return pa_csv.open_csv(
        stream,
        read_options=pa_csv.ReadOptions(
            block_size=limits.block_size,
            use_threads=False,
            column_names=list(fmt.names),
            skip_rows=fmt.header_lines,
        ),
        parse_options=pa_csv.ParseOptions(delimiter=fmt.delimiter, newlines_in_values=True),
        convert_options=convert_options(fmt, dict.fromkeys(fmt.names, pa.string())),
    )


def block_type(values: pa.Array, decimal: str = ".") -> pa.DataType:
    """The narrowest type every non-missing value of a text block converts to."""
    present = values.drop_null()
    if len(present) == 0:
        return pa.null()
    if pc.all(pc.match_substring_regex(present, _INTEGER)).as_py():
        # As pandas: integers past int64 are uint64 while they fit, text past that.
        for type_ in (pa.int64(), pa.uint64()):
            if _fits(present, type_):
                return type_
        return pa.string()
    numbers = pc.replace_substring(present, ",", ".") if decimal == "," else present
    if _fits(numbers, pa.float64()):
        return pa.float64()
    if pc.all(pc.is_in(present, pa.array(_BOOLEANS))).as_py():
        return pa.bool_()
    if _fits(present, pa.timestamp("ns")):
        return pa.timestamp("ns")
    return pa.string()


def widen(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    """The type that holds both: integers and decimals make float64, int64 and uint64 make
    uint64 (a negative value then fails to read as such, and the runner reads the column as
    text, as pandas does), anything else text."""
    if pa.types.is_null(a) or a == b:
        return b
    if pa.types.is_null(b):
        return a
    if pa.float64() in (a, b) and {a, b} <= _NUMBERS:
        return pa.float64()
    if {a, b} == {pa.int64(), pa.uint64()}:
        return pa.uint64()
    return pa.string()


def _fits(values: Any, type_: pa.DataType) -> bool:
    try:
        pc.cast(values, type_)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def scan_json_types(path: Path, fmt: FileFormat, limits: ReadLimits) -> dict[str, pa.DataType]:
    """Each top-level field's type over every line of a JSON Lines file (a slow path in Python,
    taken only once pyarrow's first-block types or its parse broke). Nested values are left to
    pyarrow. FileJobError naming the first line that is not a JSON object or gives a field
    another kind of value than the lines before (pyarrow reads neither)."""
    types: dict[str, pa.DataType] = {}
    negative: set[str] = set()
    with path.open("rb") as raw:
        # Lines end at "\n" alone, as pyarrow's do (a lone "\r" is whitespace in JSON).
        lines = io.TextIOWrapper(text_stream(raw, fmt, limits), encoding="utf-8", newline="\n")
        started = False
        for number, line in enumerate(lines, 1):
            if not started and line.strip():
                started = True
                _refuse_array(line)
            for name, value in _fields(line, number):
                types[name] = _widened(name, types.get(name, pa.null()), value, number)
                if type(value) is int and value < 0:
                    negative.add(name)
    # Integers past int64 are uint64 (as in pandas), unless the field has negative ones too:
    # then float64, as pandas reads them.
    return {
        name: pa.float64() if t == pa.uint64() and name in negative else t
        for name, t in types.items()
        if not pa.types.is_binary(t)
    }


def _refuse_array(first_line: str) -> None:
    """A file whose first line opens an array (`[{...}, ...]`, or `[` alone, pretty-printed)
    is one JSON document, which was told its line 1 was no object or no valid JSON."""
    if first_line.lstrip().startswith("["):
        raise FileJobError(
            "invalid_json",
            "This file is one JSON array, not JSON Lines (one object per line): write each "
            "element on a line of its own, e.g. with jq -c '.[]' file.json > file.jsonl, and "
            "send that.",
        )


def _fields(line: str, number: int) -> Iterable[tuple[str, Any]]:
    if not line.strip():
        return ()
    try:
        # Without its line end, a line cut short fails at its end, not at "line 2 column 1".
        row = json.loads(line.rstrip("\r\n"), parse_int=_integer)
    except json.JSONDecodeError as exc:
        raise FileJobError(
            "invalid_json", f"Line {number} is not valid JSON: {exc.msg} (column {exc.colno})."
        ) from exc
    if row is not None and not isinstance(row, dict):  # pyarrow reads `null` as an empty row
        raise FileJobError(
            "invalid_json", f"Line {number} is not a JSON object: each line must be one object."
        )
    for name, value in (row or {}).items():
        _refuse_lone_surrogates(name, value, number)
    return row.items() if row else ()


#: Digits (and a sign) an integer within 64 bits may have: 2**64 has 20.
_INT64_TEXT = 21


def _integer(text: str) -> int:
    """A JSON integer; one too long for 64 bits as 2**64, which `_widened` refuses, not read
    whole: Python refuses more than 4,300 digits, and reading them costs time squared."""
    return int(text) if len(text) <= _INT64_TEXT else 2**64


def _refuse_lone_surrogates(name: str, value: Any, number: int) -> None:
    """pyarrow refuses an escaped surrogate without its other half (it encodes no character)
    and says only "row 0" of its block; Python's parser takes it. The owner learns where."""
    texts = [name]
    pending = [value]
    while pending:  # nesting is bounded by the depth guard the line passed already
        item = pending.pop()
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, dict):
            texts.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    for text in texts:
        lone = _SURROGATE.search(text)
        if lone:
            escaped = f"\\u{ord(lone.group()):04x}"
            raise FileJobError(
                "invalid_json",
                f"Line {number}: field {name!r} holds {escaped}, half of a UTF-16 surrogate "
                "pair without its other half, which is no character. Write the whole pair "
                "(e.g. \\ud83d\\ude00) or the character itself.",
            )


def _widened(name: str, was: pa.DataType, value: Any, number: int) -> pa.DataType:
    if type(value) is int and not -(2**63) <= value < 2**64:
        # pandas refuses such a file too ("Value is too big!"); as a float it would lose digits.
        raise FileJobError(
            "invalid_json",
            f"Column {name!r} holds an integer past 64 bits on line {number}; quote such "
            "numbers to read them as text.",
        )
    if type(value) is float and not math.isfinite(value):
        # pyarrow refuses it ("Number too big to be stored in double"); pandas reads inf,
        # which would stand for the number in no statistic.
        raise FileJobError(
            "invalid_json",
            f"Column {name!r} holds a number past a 64-bit float's range on line {number}; "
            "quote such numbers to read them as text.",
        )
    now = _json_type(value)
    kinds = _KINDS.get(was), _KINDS.get(now)
    if None not in kinds and kinds[0] != kinds[1]:
        raise FileJobError(
            "invalid_json",
            f"Column {name!r} changes from {kinds[0]} to {kinds[1]} on line {number}; a column "
            "must hold one kind of value (quote the numbers to read them all as text).",
        )
    return widen(was, now)


def _json_type(value: Any) -> pa.DataType:
    if value is None:
        return pa.null()
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64() if value < 2**63 else pa.uint64()  # pandas' too
    if isinstance(value, float):
        return pa.float64()
    return pa.string() if isinstance(value, str) else pa.binary()  # nested: see below
