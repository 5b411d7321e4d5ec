"""Accepting orders and cancels durably, before the api answers (redis.asyncio).

One Lua script per order writes the record, indexes it for its owner, appends it to the
symbol's inbound log and announces `order.accepted`, so an accepted order is never lost or
unannounced. The same script raises the symbol's "pending" flag: only the order that raises it
asks for a matching task, so a burst of orders costs one task send, not one per order.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from jobcast import rediskeys
from jobcast.events import STREAM_MAXLEN, STREAM_TTL_SECONDS, Event, user_channel
from jobcast.orders import records
from jobcast.orders.encoding import NewOrder, encode_inbound
from jobcast.orders.symbols import SymbolRules
from jobcast.owned_index import index_member
from jobcast.rediskeys import stream_key
from jobcast.tallies import ORDERS_KEY

#: How long a raised pending flag is trusted; past it a new order sends another task, which
#: also recovers from an api process that died between raising the flag and sending.
PENDING_MS = 10_000

# KEYS: 6 per order: [record, cid index (or the record again), owner index, inbound, pending,
#        user stream], then the orders' metrics hash (counts the accepted ones: jobcast.tallies)
# ARGV: [pending ms, stream maxlen, stream ttl, orders json: per order
#        [id, has cid, record fields, index member, compact entry, user channel, event body]]
# Returns one string, per order "0 <existing id>" for a repeated client_order_id, else
# "1 <inbound id> <kicked>", joined by commas (one reply to parse, not thousands).
# The whole request is one script, so it is accepted atomically too.
_ACCEPT_LUA = """
local orders = cjson.decode(ARGV[4])
local out = {}
local accepted = 0
for i, o in ipairs(orders) do
  local k = (i - 1) * 6
  local existing = false
  if o[2] == 1 then
    existing = redis.call('GET', KEYS[k + 2])
    if not existing then redis.call('SET', KEYS[k + 2], o[1]) end
  end
  if existing then
    out[#out + 1] = '0 ' .. existing
  else
    local sid = redis.call('XADD', KEYS[k + 4], '*', 'c', 'new', 'o', o[5])
    local flat = {'sid', sid}
    for f, v in pairs(o[3]) do flat[#flat + 1] = f; flat[#flat + 1] = v end
    redis.call('HSET', KEYS[k + 1], unpack(flat))
    redis.call('ZADD', KEYS[k + 3], 0, o[4])
    local kicked = redis.call('SET', KEYS[k + 5], '1', 'NX', 'PX', ARGV[1]) and 1 or 0
    local seq = redis.call('XADD', KEYS[k + 6], 'MAXLEN', '~', ARGV[2], '*', 'e', o[7])
    redis.call('EXPIRE', KEYS[k + 6], ARGV[3])
    redis.call('PUBLISH', 'jobcast:events:' .. o[6], '{"seq":"' .. seq .. '",' .. string.sub(o[7], 2))
    out[#out + 1] = '1 ' .. sid .. ' ' .. kicked
    accepted = accepted + 1
  end
end
if accepted > 0 then redis.call('HINCRBY', KEYS[#KEYS], 'accepted', accepted) end
return table.concat(out, ',')
"""

# KEYS: [record, inbound, pending]  ARGV: [owner, order id, pending ms]
# Returns {'missing'}, {'<terminal status>'}, or {'ok', kicked}; a repeated cancel is 'ok'.
_CANCEL_LUA = """
-- The terminal statuses are jobcast.orders.enums.TERMINAL_STATUSES (OrderStatus values).
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner ~= ARGV[1] then return {'missing'} end
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'filled' or status == 'cancelled' or status == 'rejected' then return {status} end
if redis.call('HEXISTS', KEYS[1], 'cancel_sid') == 1 then return {'ok', 0} end
local sid = redis.call('XADD', KEYS[2], '*', 'c', 'cancel', 'id', ARGV[2])
redis.call('HSET', KEYS[1], 'cancel_sid', sid)
local kicked = redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[3]) and 1 or 0
return {'ok', kicked}
"""


@dataclass(frozen=True)
class Accepted:
    order_id: str
    created: bool  # False: an earlier order with the same client_order_id
    kicked: bool
    view: dict[str, Any] | None = None  # the new order's public view (None when not created)


def _accept_item(
    order: NewOrder, view: dict[str, Any], record: dict[str, str], now: float
) -> tuple[list[str], list[Any]]:
    """The script's keys and payload entry for one order."""
    cid = order.client_order_id
    event = Event(user_channel(order.owner), "order.accepted", view, ts=now)
    keys = [
        rediskeys.order_key(order.id),
        rediskeys.client_order_id_key(order.owner, cid) if cid else rediskeys.order_key(order.id),
        rediskeys.orders_of_key(order.owner),
        rediskeys.inbound_key(order.symbol),
        rediskeys.pending_key(order.symbol),
        stream_key(event.channel),
    ]
    member = index_member(int(now * 1000), order.id)
    item = [
        order.id,
        1 if cid else 0,
        record,
        member,
        encode_inbound(order),
        event.channel,
        event.body(),
    ]
    return keys, item


async def accept_orders(
    client: aioredis.Redis, orders: list[tuple[NewOrder, SymbolRules]]
) -> list[Accepted]:
    """Accept the orders in one script: each durable, indexed, logged and announced."""
    if not orders:
        return []
    now = time.time()
    keys: list[str] = []
    items: list[list[Any]] = []
    views = []
    for order, rules in orders:
        record = order.record(now)
        views.append(records.record_view(record, rules))
        order_keys, item = _accept_item(order, views[-1], record, now)
        keys += order_keys
        items.append(item)
    keys.append(ORDERS_KEY)
    payload = json.dumps(items, separators=(",", ":"))
    argv = [str(PENDING_MS), str(STREAM_MAXLEN), str(STREAM_TTL_SECONDS), payload]
    raw = await client.register_script(_ACCEPT_LUA)(keys, argv)
    replies = str(raw).split(",")
    return [
        _accepted(order.id, reply.split(" "), view)
        for (order, _), reply, view in zip(orders, replies, views, strict=True)
    ]


def _accepted(order_id: str, reply: list[str], view: dict[str, Any]) -> Accepted:
    if reply[0] == "0":
        return Accepted(order_id=reply[1], created=False, kicked=False)
    return Accepted(order_id=order_id, created=True, kicked=reply[2] == "1", view=view)


async def request_cancel(
    client: aioredis.Redis, owner: str, order_id: str, symbol: str
) -> tuple[str, bool]:
    """Append a cancel to the symbol's inbound log. Returns (outcome, kicked)."""
    keys = [
        rediskeys.order_key(order_id),
        rediskeys.inbound_key(symbol),
        rediskeys.pending_key(symbol),
    ]
    reply = await client.eval(_CANCEL_LUA, len(keys), *keys, owner, order_id, str(PENDING_MS))
    return str(reply[0]), len(reply) > 1 and int(reply[1]) == 1
