"""Each route's real error answers, documented with the one error shape and an example per code.

Routes declare `responses=errors(...)` with the codes they can give; the OpenAPI document then
lists, per status, those codes with what each means, instead of the same blanket list on every
route.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from jobcast.schemas.errors import ErrorResponse

#: Where the document keeps the error shape (FastAPI names the component after the model).
ERROR_RESPONSE_REF = f"#/components/schemas/{ErrorResponse.__name__}"

#: Every code a route may answer with: (status, what it means / what to do).
CODES: dict[str, tuple[int, str]] = {
    "bad_request": (
        400,
        "The body cannot be parsed: a JSON body that is not UTF-8, or a multipart body cut "
        "before its closing boundary or with a part's headers over their limit (a very long "
        "file name).",
    ),
    "unauthenticated": (401, "No API key: send `Authorization: Bearer <key>` or `X-API-Key`."),
    "invalid_key": (401, "The API key is unknown or revoked."),
    "forbidden": (403, "This route needs an admin key."),
    "not_found": (404, "No such record, or it is not yours."),
    "no_artifact": (404, "This job produced no file to download (only `convert` jobs do)."),
    "already_finished": (409, "The job already ended; there is nothing to cancel."),
    "conflict": (409, "The job changed state while cancelling; try again."),
    "not_finished": (409, "The job has not ended yet; wait for `job.succeeded`."),
    "job_failed": (409, "The job failed; `details` is its error."),
    "job_cancelled": (409, "The job was cancelled; it has no result."),
    "order_not_open": (409, "The order is already filled, cancelled or rejected."),
    "symbol_not_traded": (
        409,
        "The order's symbol is no longer traded (`JOBCAST_ORDER_SYMBOLS`): nothing can cancel it.",
    ),
    "too_many_data_items": (
        409,
        "You keep `JOBCAST_QUOTA_DATA_ITEMS` data items, the most allowed; delete some first.",
    ),
    "too_many_open_orders": (
        409,
        "You have the most open orders allowed (`JOBCAST_QUOTA_OPEN_ORDERS`): cancel some first.",
    ),
    "gone": (410, "Your record expired and its data was deleted."),
    "payload_too_large": (413, "The body (or the uploaded file) is over its size cap."),
    "storage_quota_exceeded": (
        413,
        "Your stored files would exceed your quota; `details` says how much is in use.",
    ),
    "upload_stalled": (
        408,
        "The upload sent no bytes for `JOBCAST_UPLOAD_IDLE_TIMEOUT` seconds: it was cut and "
        "nothing kept.",
    ),
    "too_many_uploads": (429, "You already have the most uploads in progress at once."),
    "too_many_active_jobs": (
        429,
        "You already have `JOBCAST_QUOTA_ACTIVE_JOBS` file jobs queued or running; submit more "
        "when some have finished.",
    ),
    "unsupported_media_type": (415, "Send the table as `multipart/form-data` with a part `file`."),
    "validation_error": (422, "Invalid request; `details` lists each field and what is wrong."),
    "file_required": (422, "No multipart part named `file`."),
    "empty_file": (422, "The uploaded file is empty."),
    "invalid_params": (
        422,
        "The `params` part is not valid JSON for the operation; `details` lists each field and "
        "what is wrong.",
    ),
    "upload_required": (422, "A server path was named (`file_path`): upload the file instead."),
    "idempotency_key_reused": (422, "This Idempotency-Key was used with a different upload."),
    "client_order_id_reused": (
        422,
        "This client_order_id names a different order; `details` says which and how it differs.",
    ),
    "batch_too_large": (422, "More orders than `JOBCAST_ORDER_BATCH_MAX` in one batch."),
    "unknown_symbol": (422, "The symbol is not traded."),
    "quantity_not_positive": (422, "quantity must be > 0."),
    "quantity_below_minimum": (422, "quantity is under the symbol's minimum."),
    "quantity_above_maximum": (422, "quantity is over the symbol's maximum."),
    "quantity_not_lot_multiple": (422, "quantity is not a multiple of the lot size."),
    "price_required": (422, "A limit order needs a price."),
    "price_invalid": (
        422,
        "price is not a plain decimal: at most 15 digits before the point and 12 after, "
        "no exponent.",
    ),
    "price_not_positive": (422, "price must be > 0."),
    "price_off_tick": (422, "price is not a multiple of the tick size."),
    "max_notional_exceeded": (422, "price * quantity is over the symbol's max notional."),
    "market_order_has_price": (422, "A market order takes no price."),
    "market_order_not_ioc": (422, "A market order never rests: use IOC or omit time_in_force."),
    "rate_limited": (429, "Too many requests; retry after `Retry-After` seconds."),
    "redis_unavailable": (503, "The data store is unreachable; retry shortly."),
    "unavailable": (503, "The job queue is unavailable; the job was not queued. Retry."),
    "not_ready": (
        503,
        "Not ready: Redis does not answer, is near its maxmemory, or a queue has no live worker.",
    ),
    "storage_full": (
        507,
        "The server's disk would be left under `JOBCAST_JOB_MIN_FREE_DISK_BYTES` free (or is "
        "full): nothing of the upload was kept. Retry later (`Retry-After`).",
    ),
    "redis_full": (503, "The data store reached its maxmemory and refuses writes; retry later."),
    "shutting_down": (
        503,
        "The api process stopped before finishing the request, which may or may not have been "
        "applied: send it again (with the same Idempotency-Key or client_order_id).",
    ),
}

#: What every route behind an API key can answer.
AUTHENTICATED = (
    "unauthenticated",
    "invalid_key",
    "rate_limited",
    "redis_unavailable",
    "redis_full",
    "shutting_down",
)
#: A record looked up by id for its owner.
OWNED = ("not_found", "gone")
#: The order rules of `jobcast.orders.symbols`, checked after the schema.
ORDER_RULES = (
    "unknown_symbol",
    "quantity_not_positive",
    "quantity_below_minimum",
    "quantity_above_maximum",
    "quantity_not_lot_multiple",
    "price_required",
    "price_invalid",
    "price_not_positive",
    "price_off_tick",
    "max_notional_exceeded",
    "market_order_has_price",
    "market_order_not_ioc",
)


def errors(*codes: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route that can answer with `codes` (grouped by status)."""
    by_status: dict[int, list[str]] = defaultdict(list)
    for code in dict.fromkeys(codes):
        by_status[CODES[code][0]].append(code)
    return {status: _response(names) for status, names in sorted(by_status.items())}


def _response(codes: list[str]) -> dict[str, Any]:
    return {"model": ErrorResponse, **_described({code: CODES[code][1] for code in codes})}


def openapi_error(code: str, message: str) -> dict[str, Any]:
    """One error answer as the OpenAPI document spells it: for answers added to the document
    after FastAPI built it (`api.openapi`), where `errors` cannot be used."""
    answer = _described({code: message})
    answer["content"]["application/json"]["schema"] = {"$ref": ERROR_RESPONSE_REF}
    return answer


def _described(messages: dict[str, str]) -> dict[str, Any]:
    examples = {
        code: {
            "summary": code,
            "value": {"error": {"code": code, "message": message, "details": None}},
        }
        for code, message in messages.items()
    }
    description = "; ".join(f"`{code}`: {message}" for code, message in messages.items())
    return {"description": description, "content": {"application/json": {"examples": examples}}}
