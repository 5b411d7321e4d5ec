"""The one error shape of the API: `{"error": {"code", "message", "details"}}` on every 4xx/5xx."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorDetail(BaseModel):
    """One error: also how `POST /orders/batch` reports each rejected order."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"code": "not_found", "message": "No job with that id.", "details": None}]
        }
    )

    code: str = Field(description="Stable machine-readable code, e.g. `not_found`, `rate_limited`.")
    message: str = Field(description="What went wrong and what to do about it.")
    details: Any = Field(default=None, description="Field errors, limits, or a request id.")


class ErrorResponse(BaseModel):
    """The body of every 4xx and 5xx answer."""

    error: ErrorDetail


def no_record(what: str) -> str:
    """The 404's words for an id that names no record of yours (`No job with that id.`): the
    api answers them, and the client says them for an id it cannot send (an empty one)."""
    return f"No {what} with that id."


def field_errors(errors: Iterable[Any], *within: str) -> list[dict[str, Any]]:
    """pydantic's errors as the documented `details` of a 422: `{field, problem, type}` each,
    the field's path starting with `within` (the part of the request validated). The api
    answers with them; the client builds the same before sending what would be refused."""
    return [_field_error(err, within) for err in errors]


def _field_error(err: Any, within: tuple[str, ...]) -> dict[str, Any]:
    loc = (*within, *err["loc"])
    if err["type"] == "json_invalid" and len(loc) == 2:
        # FastAPI puts the character offset where a field name would go ("body.19").
        reason = err.get("ctx", {}).get("error", "")
        problem = f"not valid JSON at character {loc[1]}" + (f": {reason}" if reason else "")
        return {"field": str(loc[0]), "problem": problem, "type": err["type"]}
    return {
        "field": ".".join(str(p) for p in loc),
        "problem": _problem(err, loc),
        "type": err["type"],
    }


def _problem(err: Any, loc: tuple[Any, ...]) -> str:
    """pydantic's message, in the request's terms where it had none: not a class name, not a
    field of a body that was never sent."""
    kind = err["type"]
    if kind == "missing" and loc == ("body",):
        return "the request needs a JSON body"
    if kind == "model_type":  # "a valid dictionary or instance of JobParams"
        return "should be a JSON object"
    # A validator's ValueError comes as "Value error, <its message>".
    return str(err["msg"]).removeprefix("Value error, ")


def summary(fields: list[dict[str, Any]], what: str = "request") -> str:
    """A 422's message: the first few field errors on one line."""
    return f"Invalid {what}: " + "; ".join(f"{f['field']}: {f['problem']}" for f in fields[:5])
