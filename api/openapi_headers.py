"""The response headers in the OpenAPI document, each where the api really sends it.

FastAPI documents no header a response carries. The front door (`api.middleware`) gives every
answer its request id and time; a route behind a key spends from a budget first
(`api.auth`), so its answers say what is left, and a 429 says when to come back. Those follow
from what an operation is, so `document_headers` adds them to the built document; `Location`
is the route's own doing, so a route that sets it declares `LOCATED` on its answer.
"""

from __future__ import annotations

from typing import Any

#: name -> what it says. Integers are seconds or counts.
DESCRIPTIONS = {
    "X-Request-ID": "The request's id (yours if you sent a sane one); the access log has it.",
    "X-Process-Time": "Seconds the api spent on the request.",
    "RateLimit-Limit": "Requests the budget holds at once (its burst).",
    "RateLimit-Remaining": "Requests left in the budget now.",
    "RateLimit-Reset": "Seconds until the budget is full again.",
    "Retry-After": "Seconds to wait before sending the request again.",
    "WWW-Authenticate": "`Bearer`: how to send a key.",
    "Location": "The path of the record the request created (or found again).",
}
_INTEGER = frozenset({"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"})
RATE_LIMIT = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
#: On every answer, from the front door.
EVERY_ANSWER = ("X-Request-ID", "X-Process-Time")
#: What an error of a route behind a key says of the budget when it got that far.
_SPENT_BEFORE_FAILING = "Sent when the request spent from its budget before it failed."
#: What a 401 says of the budget its address spent (`api.auth`).
_SPENT_BY_ADDRESS = "The budget of the request's address, which a refused key spends from."


def header(name: str, required: bool = True, when: str | None = None) -> dict[str, Any]:
    """One header object; `when` says when a header that is not always sent is."""
    described = DESCRIPTIONS[name] if when is None else f"{DESCRIPTIONS[name]} {when}"
    kind = "integer" if name in _INTEGER else "string"
    return {"description": described, "required": required, "schema": {"type": kind}}


#: Merged into a route's `responses=` entry for an answer that sets `Location`.
LOCATED: dict[str, Any] = {"headers": {"Location": header("Location")}}


def document_headers(schema: dict[str, Any]) -> None:
    """The headers of every answer of every operation; run after the security requirements
    are in the document (an operation with them spends from a budget)."""
    for path in schema["paths"].values():
        for operation in path.values():
            keyed = "security" in operation
            for status, response in operation["responses"].items():
                headers = response.setdefault("headers", {})
                for name, value in answer_headers(status, keyed).items():
                    headers.setdefault(name, value)


def answer_headers(status: str, keyed: bool) -> dict[str, dict[str, Any]]:
    """The headers an answer with `status` carries, for an operation behind a key or not."""
    headers = {name: header(name) for name in EVERY_ANSWER}
    if not keyed:
        return headers
    if status.startswith("2") or status == "429":
        headers.update({name: header(name) for name in RATE_LIMIT})
    else:
        when = _SPENT_BY_ADDRESS if status == "401" else _SPENT_BEFORE_FAILING
        headers.update({name: header(name, False, when) for name in RATE_LIMIT})
    if status == "429":
        headers["Retry-After"] = header("Retry-After")
    if status == "401":
        headers["WWW-Authenticate"] = header("WWW-Authenticate")
    return headers
