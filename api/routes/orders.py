"""Orders: place (one or a batch), read, list and cancel your own.

An order is accepted once it is durable in Redis and announced; matching happens afterwards
in the `orders` workers, whose `order.*` events on `user.{principal}` report fills and
cancels. Validation rules answer 422 with the rule's code (see `jobcast.orders.symbols`).
"""

from __future__ import annotations

import logging
import re
import secrets
from functools import partial
from typing import Annotated, Any, Literal

import redis
import redis.asyncio as aioredis
from fastapi import APIRouter, Query, Response, status
from kombu.exceptions import OperationalError
from prometheus_client import Counter
from pydantic import ValidationError
from starlette.convertors import Convertor, register_url_convertor

from api.auth import CurrentPrincipal, CurrentReader
from api.deps import RedisDep, SettingsDep, TaskSenderDep, cursor_query
from api.errors import ApiError, not_found
from api.exact_numbers import ExactNumberRoute
from api.openapi_errors import AUTHENTICATED, ORDER_RULES, OWNED, errors
from api.openapi_headers import LOCATED
from api.order_idempotency import (
    BatchIdempotencyKey,
    OrderIdempotencyKey,
    keyed_order,
    refuse_on_batch,
)
from api.ownership import load_owned, require_id
from api.task_sender import TaskSender
from jobcast import rediskeys
from jobcast.compact_json import dumps_bytes
from jobcast.keys import Principal
from jobcast.orders import intake, records
from jobcast.orders.encoding import NewOrder
from jobcast.orders.enums import TERMINAL_STATUSES, OrderStatus, Side
from jobcast.orders.symbols import (
    OrderRuleError,
    SymbolRules,
    check_order,
    no_such_symbol,
    not_a_traded_symbol,
    symbol_table,
)
from jobcast.owned_index import (
    LIST_SCAN_LIMIT,
    MAX_PAGE,
    OwnedIndex,
    Position,
    id_of_member,
    latest_first,
    list_owned,
    oldest_first,
)
from jobcast.ratelimit import Budget, Decision, spend
from jobcast.redis_clients import redis_problem
from jobcast.schemas.errors import ErrorDetail, field_errors, summary
from jobcast.schemas.orders import Order, OrderBatchCreate, OrderBatchResult, OrderCreate, OrderPage
from jobcast.settings import Settings

# Prices and quantities sent as JSON numbers are read as written, not as floats (see the module).
router = APIRouter(prefix="/orders", tags=["orders"], route_class=ExactNumberRoute)
log = logging.getLogger("jobcast.api.orders")

#: What a broker that cannot take a message raises (kombu wraps most; some come through bare).
BROKER_ERRORS = (OperationalError, redis.ConnectionError, redis.TimeoutError)

MATCH_SEND_FAILURES = Counter(
    "jobcast_order_match_send_failures_total",
    "Matching tasks the api could not send after accepting orders (the reconciler resends them).",
)


#: A page cursor is the owner-index member of the last order seen: `<created ms>.<ns>:<order id>`
#: (`jobcast.owned_index.index_member`; members made before the nanoseconds lack `.<ns>`).
#: Any cursor of that shape is a valid place to resume from, so the schema says it exactly.
CURSOR_PATTERN = r"^[0-9]{15}(\.[0-9]{6})?:o_[0-9a-f]{20}$"
#: Order ids as `validated` makes them.
ORDER_ID = re.compile(r"o_[0-9a-f]{20}")


class OrderPathId(Convertor[str]):
    """The `{order_id}` segment: any segment (a malformed id gets the route's own 404) but
    `batch`, which no order id is: GET /orders/batch was the order "batch", 404, and a PUT
    there was told GET and DELETE were allowed. Now the path takes POST alone (405 otherwise)."""

    regex = "(?!batch$)[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("order_id", OrderPathId())


def rule_error(err: OrderRuleError) -> ApiError:
    return ApiError(422, err.rule, err.message, {"rule": err.rule, "field": err.field})


def too_many_open(settings: Settings) -> ErrorDetail:
    """An order refused because its owner has the most open orders allowed."""
    limit = settings.quota_open_orders
    return ErrorDetail(
        code="too_many_open_orders",
        message=(
            f"You have {limit} open orders, the most allowed (JOBCAST_QUOTA_OPEN_ORDERS): "
            "cancel some, or wait for them to fill, before placing more."
        ),
        details={"max_open_orders": limit},
    )


def reused(cid: str | None, accepted: intake.Accepted) -> ErrorDetail:
    """An order refused because its client_order_id already names a different order."""
    fields = ", ".join(accepted.differs)
    return ErrorDetail(
        code="client_order_id_reused",
        message=(
            f"client_order_id {cid!r} already names order {accepted.order_id}, which differs "
            f"from this one in {fields}: send a new client_order_id for a new order (the same "
            "order again gets the first one back)."
        ),
        details={"order_id": accepted.order_id, "fields": list(accepted.differs)},
    )


def order_ids(count: int) -> list[str]:
    """`count` fresh order ids (as `ORDER_ID`) from one read of the OS's random source: one read
    per order was a tenth of a batch's time in the route."""
    pool = secrets.token_hex(10 * count)
    return [f"o_{pool[i : i + 20]}" for i in range(0, 20 * count, 20)]


def validated(
    body: OrderCreate, principal: Principal, settings: Settings, order_id: str
) -> NewOrder:
    traded = symbol_table(settings.order_symbols)
    rules = traded.get(body.symbol)
    if rules is None:
        raise OrderRuleError("unknown_symbol", not_a_traded_symbol(body.symbol, traded), "symbol")
    price, tif = check_order(rules, body.type, body.time_in_force, body.quantity, body.price)
    return NewOrder(
        id=order_id,
        owner=principal.id,
        symbol=body.symbol,
        side=Side(body.side),
        type=body.type,
        time_in_force=tif,
        quantity=body.quantity,
        price_ticks=price,
        client_order_id=body.client_order_id,
        self_trade_prevention=body.self_trade_prevention,
    )


async def place(
    redis: aioredis.Redis, settings: Settings, tasks: TaskSender, orders: list[NewOrder]
) -> list[intake.Accepted]:
    table = symbol_table(settings.order_symbols)
    pairs = [(o, table[o.symbol]) for o in orders]
    accepted = await intake.accept_orders(redis, pairs, settings.quota_open_orders)
    kicked = {o.symbol for o, a in zip(orders, accepted, strict=True) if a.kicked}
    await kick_matching(tasks, sorted(kicked))
    for owner in {o.owner for o, a in zip(orders, accepted, strict=True) if a.created}:
        await intake.trim_records(redis, owner, settings.quota_order_records)
    return accepted


async def kick_matching(tasks: TaskSender, symbols: list[str]) -> None:
    """Send matching for commands already accepted; a broker failure does not undo the accept.

    The commands are durable in the symbol's inbound log and its pending flag stays raised, so
    the reconciler sends the symbol a task within its bound; the client's answer stays the
    accept it already is (a 5xx would invite a retry that places the order twice).
    """
    if not symbols:
        return
    try:
        await tasks.request_matching(symbols)
    except BROKER_ERRORS as exc:
        MATCH_SEND_FAILURES.inc()
        log.warning(
            "matching not sent for %s (the reconciler will): %s",
            ",".join(symbols),
            redis_problem(exc, where=True),
        )


async def load_order(
    redis: aioredis.Redis, settings: Settings, principal: Principal, order_id: str
) -> Order:
    require_id(order_id, ORDER_ID, "order")
    record = await load_owned(redis, rediskeys.order_key(order_id), principal, "order")
    return view(settings, record)


def view(settings: Settings, record: dict[str, str]) -> Order:
    # A symbol removed from JOBCAST_ORDER_SYMBOLS leaves its orders behind: they stay readable,
    # as stored, without the prices only its rules could render (`records.price_text`).
    rules = symbol_table(settings.order_symbols).get(record["symbol"])
    return Order(**records.record_view(record, rules))


def not_open(status: str) -> ApiError:
    return ApiError(409, "order_not_open", f"The order is already {status}.", {"status": status})


def not_traded(symbol: str) -> ApiError:
    """A cancel of an order whose symbol is no longer traded: no matching step runs for it to
    apply the cancel, and the api must not end the order behind the book's back (the book is
    still in Redis, and the symbol may come back with the order resting in it)."""
    return ApiError(
        409,
        "symbol_not_traded",
        f"{symbol!r} is no longer traded (not in JOBCAST_ORDER_SYMBOLS), so no matching runs to "
        "cancel its orders: the order stays as it is until the symbol is traded again.",
        {"symbol": symbol},
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Place an order",
    responses={
        200: {
            "model": Order,
            "description": "A repeated `client_order_id`: the first order.",
            **LOCATED,
        },
        201: LOCATED,
        **errors(
            *AUTHENTICATED,
            "bad_request",
            "payload_too_large",
            "validation_error",
            *ORDER_RULES,
            "too_many_open_orders",
            "client_order_id_reused",
        ),
    },
)
async def create_order(
    body: OrderCreate,
    principal: CurrentPrincipal,
    redis: RedisDep,
    settings: SettingsDep,
    tasks: TaskSenderDep,
    response: Response,
    idempotency_key: OrderIdempotencyKey = None,
) -> Order:
    """Place an order. Repeating a `client_order_id` returns the first order (200); naming a
    different order with it is refused (422 `client_order_id_reused`). An `Idempotency-Key`
    is the order's `client_order_id` when the body has none."""
    body = keyed_order(body, idempotency_key)
    try:
        order = validated(body, principal, settings, order_ids(1)[0])
    except OrderRuleError as err:
        raise rule_error(err) from None
    (accepted,) = await place(redis, settings, tasks, [order])
    if accepted.refused:
        refusal = too_many_open(settings)
        raise ApiError(409, refusal.code, refusal.message, refusal.details)
    if accepted.differs:
        refusal = reused(body.client_order_id, accepted)
        raise ApiError(422, refusal.code, refusal.message, refusal.details)
    if not accepted.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/orders/{accepted.order_id}"
    if accepted.view is not None:
        return Order(**accepted.view)
    assert accepted.record is not None  # a repeat comes with its order's record
    return view(settings, accepted.record)


def _validate_item(
    raw: dict[str, Any], principal: Principal, settings: Settings, order_id: str
) -> NewOrder | ErrorDetail:
    try:
        return validated(OrderCreate.model_validate(raw), principal, settings, order_id)
    except OrderRuleError as err:
        return ErrorDetail(
            code=err.rule, message=err.message, details={"rule": err.rule, "field": err.field}
        )
    except ValidationError as err:
        # As a single order's 422, its fields named within the order.
        fields = field_errors(err.errors())
        return ErrorDetail(
            code="validation_error", message=summary(fields, "order"), details=fields
        )


@router.post(
    "/batch",
    response_model=OrderBatchResult,
    summary="Place a batch of orders",
    responses=errors(
        *AUTHENTICATED, "bad_request", "payload_too_large", "validation_error", "batch_too_large"
    ),
)
async def create_orders(
    body: OrderBatchCreate,
    principal: CurrentPrincipal,
    redis: RedisDep,
    settings: SettingsDep,
    tasks: TaskSenderDep,
    idempotency_key: BatchIdempotencyKey = None,
) -> Response:
    """Place up to `JOBCAST_ORDER_BATCH_MAX` orders; each is accepted or rejected on its own.
    An `Idempotency-Key` is refused: each order's `client_order_id` makes a retry safe."""
    refuse_on_batch(idempotency_key)
    if len(body.orders) > settings.order_batch_max:
        raise ApiError(
            422,
            "batch_too_large",
            f"At most {settings.order_batch_max} orders per batch.",
            {"rule": "batch_too_large", "field": "orders"},
        )
    decision = await _spend_orders(redis, settings, principal, len(body.orders))
    ids = order_ids(len(body.orders))
    checked = [
        _validate_item(raw, principal, settings, order_id)
        for raw, order_id in zip(body.orders, ids, strict=True)
    ]
    good = [c for c in checked if isinstance(c, NewOrder)]
    accepted = await place(redis, settings, tasks, good)
    placed = [a for a in accepted if not a.refused and not a.differs]
    views = iter(_accepted_views(settings, placed))
    outcomes = iter(accepted)  # one per valid order, in order
    refusal = too_many_open(settings)
    results = []
    for item in checked:
        error = item if isinstance(item, ErrorDetail) else None
        if isinstance(item, NewOrder):
            outcome = next(outcomes)
            if outcome.refused:
                error = refusal
            elif outcome.differs:
                error = reused(item.client_order_id, outcome)
        if error is not None:
            results.append({"status": "rejected", "order": None, "error": error.model_dump()})
        else:
            results.append({"status": "accepted", "order": next(views), "error": None})
    # Built by hand: validating hundreds of orders back through the response model costs
    # more than accepting them. The shape is still `OrderBatchResult` (see response_model).
    content = dumps_bytes({"results": results})
    return Response(content, media_type="application/json", headers=decision.headers())


async def _spend_orders(
    redis: aioredis.Redis, settings: Settings, principal: Principal, count: int
) -> Decision:
    """Each order of a batch spends one from the principal's orders budget (all or none)."""
    burst, per_minute = settings.rate_orders_burst, settings.rate_orders_per_minute
    if count > burst:
        # No wait would let it through (the budget never holds more than its burst): a 429
        # with Retry-After had clients resend it in vain. Refused before anything is spent.
        raise ApiError(
            422,
            "batch_too_large",
            f"{count} orders exceed your orders budget ({burst} at once, {per_minute} a "
            f"minute): send at most {burst} orders per batch.",
            {"rule": "batch_too_large", "field": "orders", "max_orders": burst},
        )
    decision = await spend(redis, Budget("orders", per_minute, burst), principal.id, cost=count)
    if decision.allowed:
        return decision
    raise ApiError(
        429,
        "rate_limited",
        f"{count} orders exceed your orders budget ({burst} at once, {per_minute} a minute): "
        f"retry after {decision.retry_after_s} s.",
        {"retry_after": decision.retry_after_s},
        headers=decision.headers(),
    )


def _accepted_views(settings: Settings, accepted: list[intake.Accepted]) -> list[dict[str, Any]]:
    """Views of accepted orders: new ones as written, a repeated client_order_id's earlier
    order as the accepting script read it."""
    rules = symbol_table(settings.order_symbols)
    return [a.view or _earlier_view(a.record, rules) for a in accepted]


def _earlier_view(record: dict[str, str] | None, rules: dict[str, SymbolRules]) -> dict[str, Any]:
    assert record is not None  # a repeat comes with its order's record
    return records.record_view(record, rules.get(record["symbol"]))


@router.get(
    "/{order_id:order_id}", summary="Get an order", responses=errors(*AUTHENTICATED, *OWNED)
)
async def get_order(order_id: str, reader: CurrentReader, settings: SettingsDep) -> Order:
    """One of your orders; another principal's order is 404, as if it did not exist."""
    return view(settings, await reader.load(order_id, ORDER_ID, rediskeys.order_key, "order"))


@router.delete(
    "/{order_id:order_id}",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Cancel an order",
    responses=errors(*AUTHENTICATED, *OWNED, "order_not_open", "symbol_not_traded"),
)
async def cancel_order(
    order_id: str,
    principal: CurrentPrincipal,
    redis: RedisDep,
    settings: SettingsDep,
    tasks: TaskSenderDep,
) -> Order:
    """Cancel what is still open. Matching applies it in order; `order.cancelled` confirms it."""
    order = await load_order(redis, settings, principal, order_id)
    if order.status in TERMINAL_STATUSES:  # ended, whether or not its symbol is still traded
        raise not_open(order.status)
    if order.symbol not in symbol_table(settings.order_symbols):
        raise not_traded(order.symbol)
    outcome, kicked = await intake.request_cancel(redis, principal.id, order_id, order.symbol)
    if outcome == "missing":
        raise not_found("order")
    if outcome != "ok":
        raise not_open(outcome)
    if kicked:
        await kick_matching(tasks, [order.symbol])
    return order


@router.get(
    "",
    summary="List your orders",
    responses=errors(*AUTHENTICATED, "validation_error", "not_found"),
)
async def list_orders(
    principal: CurrentPrincipal,
    redis: RedisDep,
    settings: SettingsDep,
    symbol: str | None = None,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    cursor: Annotated[str | None, *cursor_query(CURSOR_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    sort: Annotated[
        Literal["oldest", "newest"],
        Query(
            description="`newest`: the most recently placed first. A `next_cursor` goes on "
            "in the order of the page that gave it."
        ),
    ] = "oldest",
) -> OrderPage:
    """Your orders, oldest first (or newest first), optionally only one symbol and/or status."""
    walk = latest_first if sort == "newest" else oldest_first
    index = OwnedIndex(rediskeys.orders_of_key(principal.id), principal.id, _member_key, walk)
    after = Position(cursor) if cursor else None
    keep = partial(_matches, symbol=symbol, status_=status_)
    listing = await list_owned(redis, index, after, limit, keep, scan_limit=LIST_SCAN_LIMIT)
    found = listing.records or listing.next_cursor is not None
    # Said, as GET /market/{symbol} says it: an empty page looked like having no orders. A
    # symbol taken out of JOBCAST_ORDER_SYMBOLS still lists the orders it left behind.
    if symbol is not None and not found:
        traded = symbol_table(settings.order_symbols)
        if symbol not in traded:
            raise ApiError(404, "not_found", no_such_symbol(symbol, traded))
    return OrderPage(
        items=[view(settings, r) for r in listing.records], next_cursor=listing.next_cursor
    )


def _member_key(member: str) -> str:
    return rediskeys.order_key(id_of_member(member))


def _matches(record: dict[str, str], symbol: str | None, status_: str | None) -> bool:
    return (symbol is None or record["symbol"] == symbol) and (
        status_ is None or record["status"] == status_
    )
