"""Per-principal caps on orders, through the real api and a real `orders` worker: open orders
past `quota_open_orders` are refused with nothing written, and past `quota_order_records` the
oldest ended orders go before their retention (410) while open ones stay."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis

from jobcast import rediskeys
from jobcast.orders.symbols import DEFAULT_SYMBOLS
from tests.conftest import SharedStack, module_stack
from tests.workers.orders.support import ORDER_ENV, EventTap, Trader, two_traders

MAX_OPEN, MAX_RECORDS = 3, 5
# Each test trades a symbol of its own, so the books of one do not cross the other's orders.
NAMES = ("SOL-OPENCAP", "SOL-HISTORY", "SOL-REPEAT")
SYMBOLS = {name: DEFAULT_SYMBOLS["SOL-USD"] for name in NAMES}
ENV = {
    **ORDER_ENV,
    "JOBCAST_ORDER_SYMBOLS": json.dumps({n: r.model_dump(mode="json") for n, r in SYMBOLS.items()}),
    "JOBCAST_QUOTA_OPEN_ORDERS": str(MAX_OPEN),
    "JOBCAST_QUOTA_ORDER_RECORDS": str(MAX_RECORDS),
}

stack = module_stack(api_env=ENV, worker_queues="orders", worker_env=ENV)


@pytest.fixture
def traders(stack: SharedStack) -> Iterator[tuple[Trader, Trader, EventTap]]:
    with two_traders(stack) as both:
        yield both


def indexed_ids(client: redis.Redis, trader: Trader) -> list[str]:
    index: list[str] = client.zrange(rediskeys.orders_of_key(trader.principal_id), 0, -1)  # type: ignore[assignment]
    return [member.split(":", 1)[1] for member in index]


def resting_bid(trader: Trader, tap: EventTap, symbol: str) -> str:
    placed = trader.place(symbol=symbol, side="buy", quantity=1, price="1.00")
    assert placed.status_code == 201, placed.text
    tap.wait_order(placed.json()["id"], "order.accepted")
    return str(placed.json()["id"])


def test_open_orders_past_the_cap_are_refused_and_nothing_is_written(
    stack: SharedStack, traders: tuple[Trader, Trader, EventTap]
) -> None:
    alice, bob, tap = traders
    symbol = "SOL-OPENCAP"
    open_ids = [resting_bid(alice, tap, symbol) for _ in range(MAX_OPEN)]

    refused = alice.place(symbol=symbol, side="buy", quantity=1, price="1.00", client_order_id="x")
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "too_many_open_orders"
    assert "JOBCAST_QUOTA_OPEN_ORDERS" in error["message"]
    assert error["details"] == {"max_open_orders": MAX_OPEN}
    bid = {"symbol": symbol, "side": "buy", "quantity": 1, "price": "1.00"}
    batch = alice.http.post("/orders/batch", json={"orders": [bid, {**bid, "quantity": 0}]})
    results = batch.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert [r["error"]["code"] for r in results] == [
        "too_many_open_orders",
        "quantity_not_positive",
    ]
    # Nothing of the refused orders was kept: not indexed, no client_order_id taken.
    assert sorted(indexed_ids(stack.redis, alice)) == sorted(open_ids)
    assert not stack.redis.exists(rediskeys.client_order_id_key(alice.principal_id, "x"))
    assert stack.redis.hget(rediskeys.OPEN_ORDERS_KEY, alice.principal_id) == str(MAX_OPEN)

    assert bob.place(**bid).status_code == 201  # another principal's cap is its own

    # An order that ends makes room: matching lowers the count as it commits the cancel.
    alice.http.delete(f"/orders/{open_ids[0]}")
    tap.wait_order(open_ids[0], "order.cancelled")
    again = alice.place(**bid, client_order_id="x")
    assert again.status_code == 201, again.text
    assert stack.redis.hget(rediskeys.OPEN_ORDERS_KEY, alice.principal_id) == str(MAX_OPEN)


def test_past_the_records_cap_the_oldest_ended_orders_go_and_open_ones_stay(
    stack: SharedStack, traders: tuple[Trader, Trader, EventTap]
) -> None:
    alice, bob, tap = traders
    symbol = "SOL-HISTORY"
    kept_open = resting_bid(alice, tap, symbol)  # the oldest record: open, so never dropped
    ended = []
    for i in range(7):  # each an IOC on a book with no asks: cancelled at once
        placed = alice.place(
            symbol=symbol,
            side="buy",
            quantity=1,
            price="1.00",
            time_in_force="IOC",
            client_order_id=f"ioc-{i}",
        )
        assert placed.status_code == 201, placed.text
        ended.append(placed.json()["id"])
        tap.wait_order(ended[-1], "order.cancelled")

    # Each new order trimmed the index back to the cap: the three oldest ended orders went.
    assert indexed_ids(stack.redis, alice) == [kept_open, *ended[3:]]
    listed = alice.http.get("/orders", params={"limit": 50}).json()["items"]
    assert [o["id"] for o in listed] == [kept_open, *ended[3:]]
    for dropped in ended[:3]:
        answer = alice.http.get(f"/orders/{dropped}")
        assert answer.status_code == 410, answer.text
        assert bob.http.get(f"/orders/{dropped}").status_code == 404  # still not bob's to see
    assert alice.http.get(f"/orders/{ended[3]}").json()["status"] == "cancelled"
    # A dropped order's client_order_id went with it, as at expiry: it may name a new order.
    reused = alice.place(
        symbol=symbol, side="buy", quantity=1, price="1.00", client_order_id="ioc-0"
    )
    assert reused.status_code == 201, reused.text
    assert reused.json()["id"] not in ended
    # A kept one's still names it.
    repeated = alice.place(
        symbol=symbol,
        side="buy",
        quantity=1,
        price="1.00",
        time_in_force="IOC",
        client_order_id="ioc-6",
    )
    assert repeated.status_code == 200
    assert repeated.json()["id"] == ended[6]


def test_a_repeated_client_order_id_answers_its_order_even_as_the_cap_drops_it(
    stack: SharedStack, traders: tuple[Trader, Trader, EventTap]
) -> None:
    # The batch's own trim dropped the earlier order before the route read it back: a 500, with
    # the batch's new order written all the same (a retry placed it twice).
    alice, _, tap = traders
    ioc = {"symbol": "SOL-REPEAT", "side": "buy", "quantity": 1, "price": "1.00"}
    ioc["time_in_force"] = "IOC"
    ended = []
    for i in range(MAX_RECORDS):  # the records cap, all ended; the first one is named "old"
        cid = {"client_order_id": "old"} if i == 0 else {}
        placed = alice.place(**ioc, **cid).json()
        tap.wait_order(placed["id"], "order.cancelled")
        ended.append(placed["id"])

    batch = alice.http.post(
        "/orders/batch", json={"orders": [{**ioc, "client_order_id": "old"}, ioc]}
    )

    assert batch.status_code == 200, batch.text
    repeat, new = batch.json()["results"]
    assert (repeat["status"], repeat["order"]["id"]) == ("accepted", ended[0])
    assert repeat["order"]["status"] == "cancelled"  # the earlier order, as it stood
    assert new["status"] == "accepted"
    assert new["order"]["id"] not in ended
    # The new order pushed the records past the cap: the oldest ended one, "old", went, and
    # its client_order_id with it (it names a new order now).
    assert alice.http.get(f"/orders/{ended[0]}").status_code == 410
    again = alice.place(**ioc, client_order_id="old")
    assert again.status_code == 201, again.text
