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

from jobcast import rediskeys
from jobcast.events import STREAM_MAXLEN, STREAM_TTL_SECONDS
from jobcast.orders.enums import OrderStatus, Side
from jobcast.rediskeys import order_lease_key, stream_key
from jobcast.tallies import APPLY_TALLIES_LUA, Tally, lua_spec
from workers.orders.book import Book, Order

# KEYS: [market, lease, book, trades, inbound, record_1 .. record_n, stream_1 .. stream_m,
#        expiring_1 .. expiring_k, tombstone_1 .. tombstone_t, tally key_1 .. tally key_u]
# ARGV: [payload json (see StepCommit.payload), channel_1, body_1 .. channel_m, body_m]
# HSET/HDEL go in chunks: Lua's unpack() has a stack limit. Returns {1, 'ok'}, or
# {0, 'lease' | 'cursor'} having changed nothing.
_COMMIT_LUA = (
    APPLY_TALLIES_LUA
    + """
local p = cjson.decode(ARGV[1])
local market, lease, book, trades, inbound = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
if redis.call('GET', lease) ~= p.token then return {0, 'lease'} end
local cursor = redis.call('HGET', market, 'cursor') or '0-0'
if cursor ~= p.cursor then return {0, 'cursor'} end
apply_tallies(p.tallies)
local function hset_pairs(key, pairs_list)
  local flat = {}
  for _, kv in ipairs(pairs_list) do
    flat[#flat + 1] = kv[1]; flat[#flat + 1] = kv[2]
    if #flat >= 1000 then redis.call('HSET', key, unpack(flat)); flat = {} end
  end
  if #flat > 0 then redis.call('HSET', key, unpack(flat)) end
end
for i = 1, #p.book_del, 500 do
  redis.call('HDEL', book, unpack(p.book_del, i, math.min(i + 499, #p.book_del)))
end
hset_pairs(book, p.book_set)
local nrec = #p.records
for i, fields in ipairs(p.records) do hset_pairs(KEYS[5 + i], fields) end
for _, t in ipairs(p.trades) do redis.call('LPUSH', trades, t) end
if #p.trades > 0 then redis.call('LTRIM', trades, 0, p.history - 1) end
hset_pairs(market, p.market)
redis.call('XTRIM', inbound, 'MINID', p.new_cursor)
redis.call('PEXPIRE', lease, p.lease_ms)
local touched = {}
for i = 1, (#ARGV - 1) / 2 do
  local channel, body = ARGV[2 * i], ARGV[2 * i + 1]
  local stream = KEYS[5 + nrec + i]
  local seq = redis.call('XADD', stream, 'MAXLEN', '~', p.maxlen, '*', 'e', body)
  touched[stream] = true
  redis.call('PUBLISH', 'jobcast:events:' .. channel, '{"seq":"' .. seq .. '",' .. string.sub(body, 2))
end
for stream, _ in pairs(touched) do redis.call('EXPIRE', stream, p.stream_ttl) end
local after = 5 + nrec + (#ARGV - 1) / 2
for i = 1, p.expiring do redis.call('EXPIRE', KEYS[after + i], p.retention) end
for i, owner in ipairs(p.tombstone_owners) do
  redis.call('SET', KEYS[after + p.expiring + i], owner, 'EX', p.tombstone_ttl)
end
return {1, 'ok'}
"""
)


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
    records: list[tuple[str, dict[str, str]]] = field(default_factory=list)
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

    def _record_keys(self) -> list[str]:
        s = self.symbol
        fixed = [rediskeys.market_key(s), order_lease_key(s), rediskeys.book_key(s), rediskeys.trades_key(s),
                 rediskeys.inbound_key(s)]  # fmt: skip
        return [*fixed, *(key for key, _ in self.records), *(stream_key(c) for c, _ in self.events),
                *self.expiring, *(key for key, _ in self.tombstones)]  # fmt: skip

    def _tallies(self) -> tuple[list[str], list[list[str | int]]]:
        return lua_spec(self.tallies, first_key=len(self._record_keys()) + 1)

    def keys(self) -> list[str]:
        return [*self._record_keys(), *self._tallies()[0]]

    def payload(self) -> str:
        return json.dumps({
            "token": self.token, "cursor": self.cursor, "new_cursor": self.new_cursor,
            "lease_ms": self.lease_ms, "history": self.history, "maxlen": STREAM_MAXLEN,
            "stream_ttl": STREAM_TTL_SECONDS, "market": list(self.market.items()),
            "book_set": self.book_set, "book_del": self.book_del,
            "records": [list(fields.items()) for _, fields in self.records],
            "trades": self.trades, "retention": self.retention,
            "tombstone_ttl": self.tombstone_ttl, "expiring": len(self.expiring),
            "tombstone_owners": [owner for _, owner in self.tombstones],
            "tallies": self._tallies()[1],
        }, separators=(",", ":"))  # fmt: skip


def commit_step(client: redis.Redis, change: StepCommit) -> None:
    keys = change.keys()
    # Event bodies go as plain arguments after the payload: nested in its JSON they would be
    # escaped and unescaped again for nothing.
    events = [part for event in change.events for part in event]
    script = client.register_script(_COMMIT_LUA)
    ok, why = script(keys, [change.payload(), *events])
    if int(ok) != 1:
        raise StepRefusedError(f"step on {change.symbol} refused: {why}")


def resting_entry(order: Order) -> str:
    """An order's compact form in the book hash; like the inbound entry, a later field trails
    the original ten and is left out at its default (the order's events show it)."""
    entry = [order.side, order.price, order.quantity, order.time_in_force, order.owner,
             order.arrival, order.client_order_id, order.filled, order.notional, order.status]  # fmt: skip
    if order.self_trade_prevention != "none":
        entry.append(order.self_trade_prevention)
    return json.dumps(entry, separators=(",", ":"))


def _resting_order(order_id: str, raw: str) -> Order:
    side, price, qty, tif, owner, arrival, cid, filled, notional, status, *later = json.loads(raw)
    order = Order(order_id, Side(side), qty, price, "limit", tif, owner, arrival, cid, filled,
                  notional, OrderStatus(status))  # fmt: skip
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


# KEYS: [market, inbound]  ARGV: [count]
# Returns the committed cursor, then one line per command after it: "<id>\t<kind>\t<payload>"
# (payload: the order's compact JSON, or the id to cancel). One string parses far faster in
# redis-py than thousands of nested stream entries.
_READ_LUA = r"""
local cursor = redis.call('HGET', KEYS[1], 'cursor') or '0-0'
local entries = redis.call('XRANGE', KEYS[2], '(' .. cursor, '+', 'COUNT', ARGV[1])
local out = {cursor}
for i, e in ipairs(entries) do
  out[i + 1] = e[1] .. '\t' .. e[2][2] .. '\t' .. e[2][4]
end
return table.concat(out, '\n')
"""

#: An inbound command: (log id, "new" or "cancel", compact order JSON or order id).
Command = tuple[str, str, str]


def read_inbound(client: redis.Redis, symbol: str, count: int) -> tuple[str, list[Command]]:
    """The committed cursor and up to `count` commands after it, oldest first."""
    keys = [rediskeys.market_key(symbol), rediskeys.inbound_key(symbol)]
    raw = str(client.register_script(_READ_LUA)(keys, [count]))
    cursor, *lines = raw.split("\n")
    commands = []
    for line in lines:
        sid, kind, payload = line.split("\t", 2)
        commands.append((sid, kind, payload))
    return cursor, commands
