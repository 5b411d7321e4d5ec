"""The Idempotency-Key header on orders.

Orders deduplicate by `client_order_id`. A generic retry layer adds Idempotency-Key to every
POST, as `/jobs` honours it; ignored here, each retry placed another order. So on `POST /orders`
the header stands in for a missing `client_order_id`, and on `POST /orders/batch`, where one
key cannot name many orders, it is refused rather than silently ignored.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header

from api.errors import ApiError
from jobcast.schemas.orders import CLIENT_ORDER_ID_MAX, CLIENT_ORDER_ID_PATTERN, OrderCreate

FIELD = "header.Idempotency-Key"
SHAPE = f"1-{CLIENT_ORDER_ID_MAX} characters of A-Z, a-z, 0-9 and . _ : -"

OrderIdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="The order's `client_order_id` when the body has none (so "
        f"{SHAPE}): a retry with the same key returns the first order.",
    ),
]
#: Read to refuse it, and left out of the schema: a header the operation never accepts is no
#: input of it (declared, a schema-valid request carrying it was refused).
BatchIdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", include_in_schema=False)
]


def refused(message: str, problem: str) -> ApiError:
    details = [{"field": FIELD, "problem": problem, "type": "idempotency_key"}]
    return ApiError(422, "validation_error", message, details)


def keyed_order(body: OrderCreate, key: str | None) -> OrderCreate:
    """The order with the header's key as its client_order_id, or 422 when it cannot be one."""
    if key is None or key == body.client_order_id:
        return body
    if body.client_order_id is not None:
        raise refused(
            f"client_order_id {body.client_order_id!r} and Idempotency-Key {key!r} differ: "
            "the header stands for the order's client_order_id, so send one of them, or the same.",
            "differs from client_order_id",
        )
    if len(key) > CLIENT_ORDER_ID_MAX or not re.fullmatch(CLIENT_ORDER_ID_PATTERN, key):
        raise refused(
            f"Idempotency-Key serves as the order's client_order_id, so it must be {SHAPE}.",
            f"must be {SHAPE}",
        )
    return body.model_copy(update={"client_order_id": key})


def refuse_on_batch(key: str | None) -> None:
    if key is not None:
        raise refused(
            "Idempotency-Key is not taken on POST /orders/batch (one key cannot name many "
            "orders): give each order its own client_order_id, which makes a retry safe.",
            "not taken on a batch",
        )
