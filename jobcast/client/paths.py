"""URL paths built from a caller's ids: each id is one path segment, whatever it holds, so
`job("../me")` asks for the job `../me` (and is told there is none), never for `/me`."""

from __future__ import annotations

from urllib.parse import quote

from jobcast.client import errors
from jobcast.orders.symbols import no_such_symbol
from jobcast.schemas.errors import no_record


def job_path(job_id: str, tail: str = "") -> str:
    return f"/jobs/{segment(job_id, no_record('job'))}{tail}"


def order_path(order_id: str) -> str:
    return f"/orders/{segment(order_id, no_record('order'))}"


def market_path(symbol: str, tail: str = "") -> str:
    return f"/market/{segment(symbol, no_such_symbol(symbol, ()))}{tail}"


def segment(value: str, missing: str) -> str:
    """`value` as one segment: every reserved character escaped, and `.` or `..` (which URL
    normalizing resolves, going up a level) spelled `%2E`. An empty value names no record, and
    no segment can carry it: NotFoundError saying `missing`, the server's 404, without a request."""
    if not value:
        raise errors.NotFoundError("not_found", missing, status=404, local=True)
    escaped = quote(value, safe="")
    return escaped.replace(".", "%2E") if escaped in (".", "..") else escaped
