"""Compact JSON text for what Jobcast writes on its hot paths: event bodies, order payloads.

orjson encodes the same values several times faster than the standard library, which matters
where every order costs a few encodings (its record view, its events, its inbound entry).
Anything orjson refuses (an integer past 64 bits, a non-string key it cannot render) falls
back to the standard encoder, so no value that encoded before fails now. One difference: a
NaN or infinite float is `null` here (unless the value falls back), where the standard library
writes `NaN`, which is not JSON at all.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

#: Dates and dataclasses still go through `str` (`default`), as with `json.dumps(default=str)`.
_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def dumps_bytes(value: Any) -> bytes:
    """`value` as compact UTF-8 JSON; unknown types are written as their `str`."""
    try:
        return orjson.dumps(value, default=str, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":"), default=str).encode()


def dumps(value: Any) -> str:
    """`dumps_bytes`, as text."""
    return dumps_bytes(value).decode()
