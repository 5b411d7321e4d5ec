"""A symbol's matching state in Redis: load the book, read the inbound log, commit a step.

A step commits with one Lua script that first checks that this worker still holds the
symbol's lease (its fencing token) and that the committed cursor is the one the step started
from. A crashed, slow or redelivered worker therefore commits nothing twice: its step is
refused and the next holder redoes the batch from the committed cursor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import redis

from jobcast import rediskeys, scripts
from jobcast.compact_json import dumps
from jobcast.events import STREAM_MAXLEN, STREAM_TTL_SECONDS
from jobcast.orders.enums import OrderStatus, Side
from jobcast.rediskeys import order_lease_key, pubsub_channel, stream_key
from jobcast.scripts import ScriptKeys
from jobcast.tallies import Tally, lua_spec
from workers.orders.book import Book, Order


class StepRefusedError(RuntimeError):
    """The lease was lost or another worker committed first: this step must not be applied."""


@dataclass
class StepCommit:
    """Everything one matching step changes, applied by `commit_step` or not at all."""

    symbol: str
    token: str
    cursor: str
    new_cursor: str
    lease_ms: int
    history: int
    market: dict[str, str]
    book_set: list[tuple[str, str]] = field(default_factory=list)
    book_del: list[str] = field(default_factory=list)
    #: (record key, [field, value, ...]): flat, as the script's HSET takes them.
    records: list[tuple[str, list[str]]] = field(default_factory=list)
    trades: list[str] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)  # (channel, body)
    # Orders that ended: their record and client_order_id entry expire after `retention`
    # seconds, leaving a tombstone (key, owner) for `tombstone_ttl` seconds.
    retention: int = 0
    tombstone_ttl: int = 0
    expiring: list[str] = field(default_factory=list)
    tombstones: list[tuple[str, str]] = field(default_factory=list)
    #: Cluster-wide counters of the step (fills, cancels, trades, matching lag).
    tallies: list[Tally] = field(default_factory=list)
    #: Let the lease go with the commit if nothing arrived after `new_cursor` meanwhile.
    release: bool = False

    def script_call(self) -> tuple[list[str], list[str]]:
        """The commit script's KEYS (each once) and ARGV: the payload, then the event bodies,
        the trades and the resting orders' book entries."""
        s = self.symbol
        keys = ScriptKeys(
            rediskeys.market_key(s),
            order_lease_key(s),
            rediskeys.book_key(s),
            rediskeys.trades_key(s),
            rediskeys.inbound_key(s),
        )
        channels: dict[str, int] = {}  # event channel -> its place in `channels`, 1-based
        for channel, _ in self.events:
            channels.setdefault(channel, len(channels) + 1)
        payload = {
            "token": self.token,
            "cursor": self.cursor,
            "new_cursor": self.new_cursor,
            "lease_ms": self.lease_ms,
            "history": self.history,
            "maxlen": STREAM_MAXLEN,
            "stream_ttl": STREAM_TTL_SECONDS,
            "market": list(self.market.items()),
            "book_set": [order_id for order_id, _ in self.book_set],
            "book_del": self.book_del,
            "records": [[keys.ref(key), *fields] for key, fields in self.records],
            "trades": len(self.trades),
            "retention": self.retention,
            "tombstone_ttl": self.tombstone_ttl,
            "expiring": [keys.ref(key) for key in self.expiring],
            "tombstones": [[keys.ref(key), owner] for key, owner in self.tombstones],
            "channels": [[keys.ref(stream_key(c)), pubsub_channel(c)] for c in channels],
            "events": [channels[channel] for channel, _ in self.events],
            "release": self.release,
        }
        tally_keys, payload["tallies"] = lua_spec(self.tallies, first_key=len(keys.keys) + 1)
        # JSON texts (event bodies, trades, book entries) go as plain arguments after the
        # payload: nested in its JSON they would be escaped and unescaped again for nothing.
        argv = [
            dumps(payload),
            *(body for _, body in self.events),
            *self.trades,
            *(entry for _, entry in self.book_set),
        ]
        return [*keys.keys, *tally_keys], argv


def commit_step(client: redis.Redis, change: StepCommit) -> bool:
    """Apply the step; whether the lease was let go with it (only when `change.release`)."""
    keys, argv = change.script_call()
    ok, why = scripts.run(client, "order_step_commit", keys, argv)
    if int(ok) != 1:
        raise StepRefusedError(f"step on {change.symbol} refused: {why}")
    return bool(why == "released")


def resting_entry(order: Order) -> str:
    """An order's compact form in the book hash; like the inbound entry, a later field trails
    the original ten and is left out at its default (the order's events show it)."""
    entry = [
        order.side,
        order.price,
        order.quantity,
        order.time_in_force,
        order.owner,
        order.arrival,
        order.client_order_id,
        order.filled,
        order.notional,
        order.status,
    ]
    if order.self_trade_prevention != "none":
        entry.append(order.self_trade_prevention)
    return dumps(entry)


def _resting_order(order_id: str, raw: str) -> Order:
    side, price, qty, tif, owner, arrival, cid, filled, notional, status, *later = json.loads(raw)
    order = Order(
        order_id,
        Side(side),
        qty,
        price,
        "limit",
        tif,
        owner,
        arrival,
        cid,
        filled,
        notional,
        OrderStatus(status),
    )
    if later:
        order.self_trade_prevention = later[0]
    return order


def _arrival_key(order: Order) -> tuple[int, int]:
    ms, _, n = order.arrival.partition("-")
    return int(ms), int(n or 0)


def load_book(client: redis.Redis, symbol: str) -> tuple[Book, dict[str, str]]:
    """The committed book and market hash of `symbol`, rebuilt in time priority."""
    pipe = client.pipeline(transaction=True)
    pipe.hgetall(rediskeys.market_key(symbol))
    pipe.hgetall(rediskeys.book_key(symbol))
    market, resting = pipe.execute()
    book = Book(trade_seq=int(market.get("trade_seq", 0)))
    book.volume = int(market.get("volume", 0))
    book.last_price = int(market["last_price"]) if market.get("last_price") else None
    orders = [_resting_order(order_id, raw) for order_id, raw in resting.items()]
    for order in sorted(orders, key=_arrival_key):
        book.rest(order)
    return book, market


#: An inbound command: (log id, "new" or "cancel", compact order JSON or order id).
Command = tuple[str, str, str]


#: A symbol's committed cursor and the commands after it, oldest first.
Inbound = tuple[str, list[Command]]


def read_inbound(client: redis.Redis, symbol: str, count: int) -> Inbound:
    """The committed cursor and up to `count` commands after it, oldest first."""
    keys = [rediskeys.market_key(symbol), rediskeys.inbound_key(symbol)]
    return parse_inbound(str(scripts.run(client, "order_read_inbound", keys, [count])))


def parse_inbound(raw: str) -> Inbound:
    """What `jobcast/lua/inbound_after_cursor.lua` answers: one string, one line per command
    (it parses far faster in redis-py than thousands of nested stream entries)."""
    cursor, *lines = raw.split("\n")
    commands = []
    for line in lines:
        sid, kind, payload = line.split("\t", 2)
        commands.append((sid, kind, payload))
    return cursor, commands
