"""Request and response models of the orders routes (`/orders`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from jobcast.schemas.errors import ErrorDetail
from jobcast.schemas.open_values import Open

Side = Literal["buy", "sell"]
OrderType = Literal["limit", "market"]
TimeInForce = Literal["GTC", "IOC"]
SelfTradePrevention = Literal["none", "cancel_newest", "cancel_oldest"]
OrderStatus = Literal["open", "partially_filled", "filled", "cancelled", "rejected"]


def _one_price_error(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """One error for a price of the wrong JSON type, not one per member of the union
    (`body.price.str`, `body.price.int`, `body.price.float`)."""
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError(
            "price_type", 'a price is a decimal as text, e.g. "100.5", or a JSON number'
        ) from None


# Checked by the symbol's rules (price_invalid names what a price may look like), so a
# malformed price is a 422 with the rule's code, never a Decimal overflow.
Price = Annotated[StrictStr | StrictInt | StrictFloat | None, WrapValidator(_one_price_error)]
#: What a client_order_id may be (and so an order's Idempotency-Key, which stands in for one).
CLIENT_ORDER_ID_PATTERN = r"^[A-Za-z0-9._:-]+$"
CLIENT_ORDER_ID_MAX = 64
ClientOrderId = Field(
    default=None, min_length=1, max_length=CLIENT_ORDER_ID_MAX, pattern=CLIENT_ORDER_ID_PATTERN
)

_LIMIT_BUY: JsonDict = {
    "symbol": "BTC-USD",
    "side": "buy",
    "type": "limit",
    "quantity": 2,
    "price": "100.5",
    "time_in_force": "GTC",
    "client_order_id": "my-order-1",
}


class OrderCreate(BaseModel):
    """A new order. `price` (a decimal, on the symbol's tick) is for limit orders only.

    `self_trade_prevention`: what happens when it would trade with a resting order of yours:
    trade anyway (`none`), cancel this order's remainder (`cancel_newest`) or cancel the resting
    one and go on matching (`cancel_oldest`); the cancelled order's reason is `self_trade`.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_LIMIT_BUY]})

    symbol: str = Field(min_length=1, max_length=32)
    side: Side
    type: OrderType = "limit"
    # Strict: a JSON integer, not "10", 10.0 or 1e3.
    quantity: int = Field(strict=True)
    price: Price = None
    time_in_force: TimeInForce | None = None
    client_order_id: str | None = ClientOrderId
    self_trade_prevention: SelfTradePrevention = "none"


class OrderBatchCreate(BaseModel):
    """Orders validated one by one: a bad one is rejected without failing the others."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"orders": [_LIMIT_BUY]}]})

    orders: list[dict[str, Any]] = Field(min_length=1, description="Each as `OrderCreate`.")


_ORDER: JsonDict = {
    "id": "o_3f9a1c2b7d4e5f60a1b2",
    "client_order_id": "my-order-1",
    "symbol": "BTC-USD",
    "side": "buy",
    "type": "limit",
    "time_in_force": "GTC",
    "self_trade_prevention": "none",
    "price": "100.5",
    "quantity": 2,
    "filled_quantity": 1,
    "remaining_quantity": 1,
    "average_price": "100.50",
    "status": "partially_filled",
    "reason": None,
    "created_at": 1764633600.125,
    "updated_at": 1764633600.131,
}


class Order(BaseModel):
    """An order as its owner sees it; also the data of its `order.*` events."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ORDER]})

    id: str
    client_order_id: str | None
    symbol: str
    side: Side
    type: Open[OrderType]
    time_in_force: Open[TimeInForce]
    self_trade_prevention: Open[SelfTradePrevention]
    price: str | None = Field(
        description="Decimal text on the symbol's tick; null for market, and for an order whose "
        "symbol is no longer traded (prices are stored in ticks; its tick size went with it)."
    )
    quantity: int
    filled_quantity: int
    remaining_quantity: int
    average_price: str | None = Field(
        description="Of the fills so far; null before any, or when the symbol is no longer traded."
    )
    status: Open[OrderStatus]
    reason: str | None = Field(
        description="Why it was cancelled or rejected: `cancel_requested`, `ioc_remainder`, "
        "`market_remainder`, `no_liquidity`, `self_trade`."
    )
    created_at: float = Field(description="Unix time, seconds.")
    updated_at: float


class BatchResult(BaseModel):
    """One order of a batch: accepted (with the order) or rejected (with the error)."""

    status: Literal["accepted", "rejected"]
    order: Order | None = None
    error: ErrorDetail | None = None


class OrderBatchResult(BaseModel):
    results: list[BatchResult] = Field(description="One per order sent, in the same order.")


class OrderPage(BaseModel):
    items: list[Order]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )
