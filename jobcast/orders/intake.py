"""Accepting orders and cancels durably, before the api answers (redis.asyncio).

One Lua script per request (`jobcast/lua/order_accept.lua`) writes each order's record, indexes
it for its owner, appends it to the symbol's inbound log and announces `order.accepted`, so an
accepted order is never lost or unannounced. The same script raises the symbol's "pending" flag:
only the order that raises it asks for a matching task, so a burst of orders costs one task send,
not one per order.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from jobcast import rediskeys, scripts
from jobcast.compact_json import dumps
from jobcast.events import STREAM_MAXLEN, STREAM_TTL_SECONDS, Event, user_channel
from jobcast.orders import records
from jobcast.orders.encoding import NewOrder, encode_inbound
from jobcast.orders.enums import TERMINAL_STATUSES
from jobcast.orders.symbols import SymbolRules
from jobcast.owned_index import index_member
from jobcast.record_caps import Companions, RecordKind, keep_under
from jobcast.rediskeys import pubsub_channel, stream_key
from jobcast.tallies import ORDERS_KEY

#: How long a raised pending flag is trusted; past it a new order sends another task, which
#: also recovers from an api process that died between raising the flag and sending.
PENDING_MS = 10_000


@dataclass(frozen=True)
class Accepted:
    order_id: str
    created: bool  # False: an earlier order with the same client_order_id, or refused
    kicked: bool
    view: dict[str, Any] | None = None  # the new order's public view (None when not created)
    #: Not written: its owner already had the most open orders allowed (`quota_open_orders`).
    refused: bool = False
    #: A repeated client_order_id: the earlier order's record, as the accepting script read it.
    record: dict[str, str] | None = None
    #: A repeated client_order_id naming an order unlike this one: the fields that differ
    #: (the request is refused; nothing was written for it).
    differs: tuple[str, ...] = ()


def _accept_item(
    keys: scripts.ScriptKeys, order: NewOrder, view: dict[str, Any], now: float, made_ns: int
) -> tuple[list[Any], str]:
    """The script's payload entry and `order.accepted` event body for one order."""
    cid = order.client_order_id
    event = Event(user_channel(order.owner), "order.accepted", view, ts=now)
    fields = [part for pair in order.record(now).items() for part in pair]
    item = [
        order.id,
        keys.ref(rediskeys.client_order_id_key(order.owner, cid)) if cid else 0,
        fields,
        index_member(made_ns, order.id),
        encode_inbound(order),
        pubsub_channel(event.channel),
        keys.ref(rediskeys.order_key(order.id)),
        keys.ref(rediskeys.orders_of_key(order.owner)),
        keys.ref(rediskeys.inbound_key(order.symbol)),
        keys.ref(rediskeys.pending_key(order.symbol)),
        keys.ref(stream_key(event.channel)),
        order.owner,
    ]
    return item, event.body()


async def accept_orders(
    client: aioredis.Redis, orders: list[tuple[NewOrder, SymbolRules]], max_open: int = 0
) -> list[Accepted]:
    """Accept the orders in one script: each durable, indexed, logged and announced; past
    `max_open` open orders of its owner (0: no cap) an order is refused, nothing written."""
    if not orders:
        return []
    now_ns = time.time_ns()
    now = now_ns / 1e9
    keys = scripts.ScriptKeys(ORDERS_KEY, rediskeys.OPEN_ORDERS_KEY)
    items: list[list[Any]] = []
    bodies: list[str] = []
    views = []
    for i, (order, rules) in enumerate(orders):
        views.append(records.order_view(records.accepted_state(order, now), rules))
        # Each order of a batch its own nanosecond, in the request's order: they list so.
        item, body = _accept_item(keys, order, views[-1], now, now_ns + i)
        items.append(item)
        bodies.append(body)
    # Event bodies go as plain arguments after the payload: nested in its JSON they would be
    # escaped here and unescaped by the script for nothing.
    argv = [
        str(PENDING_MS),
        str(STREAM_MAXLEN),
        str(STREAM_TTL_SECONDS),
        dumps(items),
        str(max_open),
        rediskeys.order_key(""),
        *bodies,
    ]
    # One script for the whole request (`jobcast/lua/order_accept.lua`): accepted atomically too.
    raw = await scripts.run_async(client, "order_accept", keys.keys, argv)
    summary, repeats = (raw[0], raw[1:]) if isinstance(raw, list) else (raw, [])
    replies = str(summary).split(",")
    return [
        _accepted(order, reply.split(" "), view, repeats)
        for (order, _), reply, view in zip(orders, replies, views, strict=True)
    ]


def _accepted(
    order: NewOrder, reply: list[str], view: dict[str, Any], repeats: list[list[str]]
) -> Accepted:
    if reply[0] == "2":
        return Accepted(order_id=order.id, created=False, kicked=False, refused=True)
    if reply[0] == "0":
        flat = repeats[int(reply[2]) - 1]
        record = dict(zip(flat[::2], flat[1::2], strict=True))
        differs = tuple(order.differs_from(record))
        return Accepted(
            order_id=reply[1], created=False, kicked=False, record=record, differs=differs
        )
    return Accepted(order_id=order.id, created=True, kicked=reply[2] == "1", view=view)


async def request_cancel(
    client: aioredis.Redis, owner: str, order_id: str, symbol: str
) -> tuple[str, bool]:
    """Append a cancel to the symbol's inbound log. Returns (outcome, kicked)."""
    keys = [
        rediskeys.order_key(order_id),
        rediskeys.inbound_key(symbol),
        rediskeys.pending_key(symbol),
    ]
    terminal = json.dumps(sorted(status.value for status in TERMINAL_STATUSES))
    argv = [owner, order_id, str(PENDING_MS), terminal]
    reply = await scripts.run_async(client, "order_cancel", keys, argv)
    return str(reply[0]), len(reply) > 1 and int(reply[1]) == 1


def _dropped_with_order(owner: str, _order_id: str, fields: list[str | None]) -> Companions:
    # Its client_order_id goes with it, as when it expires: the id may name a new order then.
    (client_order_id,) = fields
    if not client_order_id:
        return Companions()
    return Companions(keys=[rediskeys.client_order_id_key(owner, client_order_id)])


#: Orders as `jobcast.record_caps` trims them (`quota_order_records`).
ORDER_RECORDS = RecordKind(
    rediskeys.order_key,
    frozenset(s.value for s in TERMINAL_STATUSES),
    ("client_order_id",),
    _dropped_with_order,
)


async def trim_records(client: aioredis.Redis, owner: str, cap: int) -> None:
    """Past `cap` order records, drop the owner's oldest ended ones (`jobcast.record_caps`); run
    after accepting its orders (a failure is logged: they stand)."""
    await keep_under(client, rediskeys.orders_of_key(owner), owner, cap, ORDER_RECORDS)
