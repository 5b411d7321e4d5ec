"""`GET /jobs/{id}`'s answer written straight from the job's Redis record.

The route's `Job` took ~25 us of CPU a poll of ~220: the record's JSON fields parsed, the public
view built, validated into the model, dumped and validated again by the route, then written. A
record in the shape the server writes (`jobcast.jobs.records`) is written here instead, by
pydantic's own JSON writer from plain values of the types the model would hold, so the bytes are
the model's; the params, which never change, are validated once per text. Anything else (an old
or damaged record) is left to the model (`render_job` answers None), so it is refused or
answered exactly as before.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pydantic_core import to_json
from starlette.responses import Response

from jobcast.jobs.errors import public_error
from jobcast.jobs.params import JobParams
from jobcast.jobs.records import ended_progress
from jobcast.jobs.views import links

#: The operations `Job.operation` admits (a record naming another is the model's to refuse).
OPERATIONS = frozenset({"profile", "aggregate", "convert"})
#: `JobProgress`'s integer fields, in its order.
PROGRESS_COUNTS = ("bytes_done", "bytes_total", "rows")
#: Distinct params texts whose validated form is kept: a poll re-reads the same job's.
PARAMS_CACHE = 4096


class NotCanonicalError(Exception):
    """A record value of a type the model would convert or refuse."""


def render_job(record: dict[str, str]) -> bytes | None:
    """The `Job` JSON of `record` (a job hash as read, without its result), byte for byte as
    FastAPI writes the model; None when the record is not in the shape the server writes."""
    try:
        return to_json(_view(record), inf_nan_mode="null")
    except (NotCanonicalError, KeyError, ValueError, TypeError):
        return None


def _view(record: dict[str, str]) -> dict[str, Any]:
    # The `Job` fields in the model's order, each of the type the model would hold.
    status, operation = _text(record["status"]), record["operation"]
    if operation not in OPERATIONS:
        raise NotCanonicalError(operation)
    return {
        "id": _text(record["id"]),
        "status": status,
        "operation": operation,
        "params": _params(record["params"]),
        "filename": _text(record["filename"]),
        "size": _count(record.get("size")),
        "attempt": _count(record.get("attempt")),
        "progress": _progress(status, _json(record.get("progress"))),
        "error": _error(_json(record.get("error"))),
        "created_at": float(record["created_at"]),
        "started_at": _time(record.get("started_at")),
        "finished_at": _time(record.get("finished_at")),
        "links": links(record),
    }


@lru_cache(maxsize=PARAMS_CACHE)
def _params(text: str) -> dict[str, Any]:
    # Read as the model reads a stored job's (no submit rules), in its JSON form. The dict is
    # shared between answers: nothing changes it.
    return JobParams.model_validate(json.loads(text)).model_dump(mode="json")


def _json(text: str | None) -> Any:
    return json.loads(text) if text and text != "null" else None


def _text(value: Any) -> str:
    if type(value) is not str:
        raise NotCanonicalError(value)
    return value


def _count(text: str | None) -> int:
    return int(text) if text else 0


def _time(text: str | None) -> float | None:
    return float(text) if text else None


def _number(value: Any) -> float:
    if type(value) is not float and type(value) is not int:
        raise NotCanonicalError(value)
    return float(value)


def _progress(status: str, progress: Any) -> dict[str, Any] | None:
    if progress is None:
        return None
    progress = ended_progress(status, progress)
    view: dict[str, Any] = {"phase": _text(progress["phase"])}
    for name in PROGRESS_COUNTS:
        if type(progress[name]) is not int:
            raise NotCanonicalError(progress[name])
        view[name] = progress[name]
    view["percent"] = _number(progress["percent"])
    eta = progress["eta_seconds"]
    view["eta_seconds"] = None if eta is None else _number(eta)
    return view


def _error(error: Any) -> dict[str, str] | None:
    if error is None:
        return None
    shown = public_error(error)
    return {"code": _text(shown["code"]), "message": _text(shown["message"])}


class RenderedJSON(Response):
    """A 200 whose JSON is already written, with the headers the route's dependencies set on
    its response (FastAPI sends a returned response as it is: the rate limit's headers would be
    lost). Built without `Response.__init__`'s header bookkeeping; the same headers, in order."""

    media_type = "application/json"

    def __init__(self, body: bytes, route_response: Response) -> None:
        self.status_code, self.body, self.background = 200, body, None
        self.raw_headers = [
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"content-type", b"application/json"),
            *route_response.raw_headers,
        ]
