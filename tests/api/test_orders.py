"""Orders through the real api and a real `orders` worker: placing, matching, cancelling."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import redis

from jobcast import rediskeys
from jobcast.orders.market import names_an_order
from jobcast.orders.symbols import DEFAULT_SYMBOLS
from tests.api.inprocess import run_in_process
from tests.conftest import SharedStack, module_stack
from tests.support.processes import wait_for
from tests.workers.orders.support import ORDER_ENV, EventTap, Trader, new_trader, two_traders

# Books are per symbol and shared by every principal, and the tests assert exact quotes and
# trade seqs: each test trades a symbol of its own (with the rules of the built-in one it is
# named after), so all of them can share one api and one orders worker.
NAMES = (
    "SOL-CROSS",
    "ETH-CID",
    "BTC-CANCEL",
    "ETH-IOC",
    "SOL-EMPTY",
    "SOL-STP",
    "SOL-OWNER",
    "SOL-EXPIRY",
    "SOL-DELIST",
    "ETH-IDEM",
    "SOL-TAPE",
)
SYMBOLS = {name: DEFAULT_SYMBOLS[name.split("-")[0] + "-USD"] for name in NAMES}
ENV = {
    **ORDER_ENV,
    "JOBCAST_ORDER_SYMBOLS": json.dumps({n: r.model_dump(mode="json") for n, r in SYMBOLS.items()}),
}

stack = module_stack(api_env=ENV, worker_queues="orders", worker_env=ENV)


@pytest.fixture
def redis_client(stack: SharedStack) -> redis.Redis:
    return stack.redis


@pytest.fixture
def market(stack: SharedStack) -> Iterator[tuple[Trader, Trader, EventTap]]:
    """Two new traders on the module's api and orders worker, and a tap on every event."""
    with two_traders(stack) as traders:
        yield traders


def test_crossing_orders_trade_at_the_resting_price_and_announce_it(
    market: tuple[Trader, Trader, EventTap],
) -> None:
    alice, bob, tap = market
    ask = alice.place(symbol="SOL-CROSS", side="sell", quantity=10, price="20.50")
    assert ask.status_code == 201, ask.text
    assert ask.json()["status"] == "open"

    bid = bob.place(symbol="SOL-CROSS", side="buy", quantity=4, price="21.00").json()

    filled = tap.wait_order(bid["id"], "order.filled")
    assert filled["data"]["average_price"] == "20.50"
    partly = tap.wait_order(ask.json()["id"], "order.partially_filled")
    assert partly["data"]["remaining_quantity"] == 6
    assert [e["type"] for e in tap.for_order(bid["id"])] == ["order.accepted", "order.filled"]
    trades = alice.http.get("/market/SOL-CROSS/trades").json()["trades"]
    assert [(t["price"], t["quantity"], t["seq"]) for t in trades] == [("20.50", 4, 1)]
    quote = alice.http.get("/market/SOL-CROSS").json()
    assert quote == {
        "symbol": "SOL-CROSS",
        "best_bid": None,
        "bid_size": 0,
        "best_ask": "20.50",
        "ask_size": 6,
        "last_price": "20.50",
        "volume": 4,
    }
    book = alice.http.get("/market/SOL-CROSS/book", params={"depth": 5}).json()
    assert book["asks"] == [{"price": "20.50", "quantity": 6}]


def test_same_client_order_id_returns_the_same_order(
    market: tuple[Trader, Trader, EventTap],
) -> None:
    alice, bob, _ = market
    order = {
        "symbol": "ETH-CID",
        "side": "buy",
        "quantity": 1,
        "price": "100",
        "client_order_id": "c-1",
    }

    first, again = alice.place(**order), alice.place(**order)
    others = bob.place(**order)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert others.status_code == 201
    assert others.json()["id"] != first.json()["id"]
    mine = alice.http.get("/orders", params={"symbol": "ETH-CID"}).json()["items"]
    assert [o["id"] for o in mine] == [first.json()["id"]]


def test_a_client_order_id_naming_a_different_order_is_refused(
    market: tuple[Trader, Trader, EventTap],
) -> None:
    alice, _, _ = market
    order = {
        "symbol": "ETH-CID",
        "side": "sell",
        "quantity": 2,
        "price": "300",
        "client_order_id": "d-1",
    }
    first = alice.place(**order).json()

    changed = alice.place(**{**order, "price": "301", "quantity": 3})

    assert changed.status_code == 422
    error = changed.json()["error"]
    assert error["code"] == "client_order_id_reused"
    assert error["details"] == {"order_id": first["id"], "fields": ["quantity", "price"]}
    # In a batch: the same order again is the first one; a different one is rejected alone.
    batch = [
        {**order, "client_order_id": "d-2"},
        {**order, "client_order_id": "d-2", "side": "buy"},
        order,
    ]
    results = alice.http.post("/orders/batch", json={"orders": batch}).json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "accepted"]
    assert results[1]["error"]["code"] == "client_order_id_reused"
    assert results[1]["error"]["details"]["fields"] == ["side"]
    assert results[2]["order"]["id"] == first["id"]
    # Nothing was written for the refused ones: two orders, as placed first.
    mine = alice.http.get("/orders", params={"symbol": "ETH-CID"}).json()["items"]
    assert sorted(o["id"] for o in mine) == sorted([first["id"], results[0]["order"]["id"]])
    assert alice.order(first["id"])["quantity"] == 2


def test_an_idempotency_key_serves_as_the_client_order_id(
    market: tuple[Trader, Trader, EventTap],
) -> None:
    # A generic retry layer adds Idempotency-Key to every POST: it placed an order per retry.
    alice, _, _ = market
    order = {"symbol": "ETH-IDEM", "side": "buy", "quantity": 1, "price": "100"}
    keyed = {"Idempotency-Key": "retry-7"}

    first = alice.http.post("/orders", json=order, headers=keyed)
    again = alice.http.post("/orders", json=order, headers=keyed)

    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["client_order_id"] == "retry-7"
    same = alice.http.post("/orders", json={**order, "client_order_id": "retry-7"}, headers=keyed)
    assert (same.status_code, same.json()["id"]) == (200, first.json()["id"])
    mine = alice.http.get("/orders", params={"symbol": "ETH-IDEM"}).json()["items"]
    assert [o["id"] for o in mine] == [first.json()["id"]]


def test_an_idempotency_key_that_cannot_be_a_client_order_id_is_refused_saying_why(
    market: tuple[Trader, Trader, EventTap],
) -> None:
    alice, _, _ = market
    order = {"symbol": "ETH-IDEM", "side": "sell", "quantity": 1, "price": "900"}

    spaced = alice.http.post("/orders", json=order, headers={"Idempotency-Key": "a b"})
    assert spaced.status_code == 422
    assert spaced.json()["error"]["code"] == "validation_error"
    assert "64" in spaced.json()["error"]["message"]
    assert "A-Z" in spaced.json()["error"]["message"]

    both = {**order, "client_order_id": "mine-1"}
    differ = alice.http.post("/orders", json=both, headers={"Idempotency-Key": "theirs-1"})
    assert differ.status_code == 422
    message = differ.json()["error"]["message"]
    assert "mine-1" in message
    assert "theirs-1" in message

    batch = alice.http.post(
        "/orders/batch", json={"orders": [order]}, headers={"Idempotency-Key": "b-1"}
    )
    assert batch.status_code == 422
    assert "client_order_id" in batch.json()["error"]["message"]
    mine = alice.http.get("/orders", params={"symbol": "ETH-IDEM"}).json()["items"]
    assert [o for o in mine if o["side"] == "sell"] == []  # none of them placed one


def test_cancel_of_a_partly_filled_order_cancels_only_the_remainder(
    market: tuple[Trader, Trader, EventTap],
) -> None:
    alice, bob, tap = market
    ask = alice.place(symbol="BTC-CANCEL", side="sell", quantity=10, price="100.5").json()
    bid = bob.place(symbol="BTC-CANCEL", side="buy", quantity=3, price="100.5").json()
    tap.wait_order(bid["id"], "order.filled")

    cancel = alice.http.delete(f"/orders/{ask['id']}")

    assert cancel.status_code == 202, cancel.text
    cancelled = tap.wait_order(ask["id"], "order.cancelled")["data"]
    assert (cancelled["filled_quantity"], cancelled["remaining_quantity"]) == (3, 0)
    assert alice.order(ask["id"])["status"] == "cancelled"
    assert alice.http.get("/market/BTC-CANCEL").json()["best_ask"] is None
    again = alice.http.delete(f"/orders/{ask['id']}")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "order_not_open"


def test_ioc_remainder_is_cancelled_instead_of_resting(
    market: tuple[Trader, Trader, EventTap],
) -> None:
    alice, bob, tap = market
    alice.place(symbol="ETH-IOC", side="sell", quantity=2, price="50")
    ioc = bob.place(
        symbol="ETH-IOC", side="buy", quantity=5, price="50", time_in_force="IOC"
    ).json()

    data = tap.wait_order(ioc["id"], "order.cancelled")["data"]

    assert (data["filled_quantity"], data["reason"]) == (2, "ioc_remainder")
    assert bob.http.get("/market/ETH-IOC/book").json()["bids"] == []


def test_market_order_on_an_empty_book_is_rejected_for_no_liquidity(
    market: tuple[Trader, Trader, EventTap],
) -> None:
    alice, _, tap = market
    order = alice.place(symbol="SOL-EMPTY", side="buy", type="market", quantity=5).json()

    data = tap.wait_order(order["id"], "order.rejected")["data"]

    assert (data["status"], data["reason"], data["filled_quantity"]) == (
        "rejected",
        "no_liquidity",
        0,
    )
    assert alice.order(order["id"])["reason"] == "no_liquidity"


def test_order_crossing_its_owners_resting_order_under_cancel_newest_is_cancelled_untraded(
    market: tuple[Trader, Trader, EventTap],
) -> None:
    alice, _, tap = market
    ask = alice.place(symbol="SOL-STP", side="sell", quantity=5, price="20.00").json()
    bid = alice.place(
        symbol="SOL-STP",
        side="buy",
        quantity=5,
        price="20.00",
        self_trade_prevention="cancel_newest",
    ).json()
    assert bid["self_trade_prevention"] == "cancel_newest"

    data = tap.wait_order(bid["id"], "order.cancelled")["data"]

    assert (data["reason"], data["filled_quantity"], data["self_trade_prevention"]) == (
        "self_trade",
        0,
        "cancel_newest",
    )
    assert alice.order(bid["id"])["reason"] == "self_trade"
    assert alice.order(ask["id"])["status"] == "open"
    assert [e["type"] for e in tap.for_order(ask["id"])] == ["order.accepted"]
    assert alice.http.get("/market/SOL-STP/trades").json()["trades"] == []
    assert alice.http.get("/market/SOL-STP").json()["ask_size"] == 5


def test_another_principals_order_is_not_found(market: tuple[Trader, Trader, EventTap]) -> None:
    alice, bob, _ = market
    order = alice.place(symbol="SOL-OWNER", side="buy", quantity=1, price="1").json()

    assert bob.http.get(f"/orders/{order['id']}").status_code == 404
    assert bob.http.delete(f"/orders/{order['id']}").status_code == 404
    assert bob.http.get("/orders").json()["items"] == []
    assert alice.http.get("/orders/o_nope").status_code == 404


def test_an_ended_order_expires_to_410_and_leaves_the_list(
    market: tuple[Trader, Trader, EventTap], redis_client: redis.Redis
) -> None:
    alice, bob, tap = market
    order = {
        "symbol": "SOL-EXPIRY",
        "side": "buy",
        "quantity": 1,
        "price": "1",
        "client_order_id": "x-1",
    }
    ended = alice.place(**order).json()
    alice.http.delete(f"/orders/{ended['id']}")
    tap.wait_order(ended["id"], "order.cancelled")
    still_open = alice.place(symbol="SOL-EXPIRY", side="buy", quantity=1, price="1").json()
    tap.wait_order(still_open["id"], "order.accepted")

    key = rediskeys.order_key(ended["id"])
    assert 0 < redis_client.ttl(key) <= 7 * 86400  # the retention default, counting down
    assert redis_client.ttl(rediskeys.order_key(still_open["id"])) == -1  # open: kept
    cid_key = rediskeys.client_order_id_key(alice.principal_id, "x-1")
    assert abs(redis_client.ttl(cid_key) - redis_client.ttl(key)) <= 1  # they go together
    for expiring in (key, cid_key):  # let the retention run out now instead of in a week
        redis_client.pexpire(expiring, 1)
    wait_for(lambda: not redis_client.exists(key), 5, "the record to expire")

    assert alice.http.get(f"/orders/{ended['id']}").json()["error"]["code"] == "gone"
    assert bob.http.get(f"/orders/{ended['id']}").status_code == 404
    listed = alice.http.get("/orders").json()["items"]
    assert [o["id"] for o in listed] == [still_open["id"]]
    index = redis_client.zrange(rediskeys.orders_of_key(alice.principal_id), 0, -1)
    assert [member.split(":", 1)[1] for member in index] == [still_open["id"]]
    # The client_order_id went with the order: it may name a new one now.
    again = alice.place(**order)
    assert again.status_code == 201
    assert again.json()["id"] != ended["id"]


def test_orders_of_a_symbol_no_longer_traded_stay_readable_and_refuse_a_cancel(
    market: tuple[Trader, Trader, EventTap], stack: SharedStack
) -> None:
    alice, bob, tap = market
    ask = alice.place(symbol="SOL-DELIST", side="sell", quantity=10, price="20.50").json()
    bid = bob.place(symbol="SOL-DELIST", side="buy", quantity=4, price="21.00").json()
    tap.wait_order(ask["id"], "order.partially_filled")
    # The api restarted with SOL-DELIST taken out of JOBCAST_ORDER_SYMBOLS.
    traded = {name: rules for name, rules in SYMBOLS.items() if name != "SOL-DELIST"}
    settings = stack.settings.replace(order_symbols=traded)

    async def scenario(client: httpx.AsyncClient) -> None:
        as_alice = {"Authorization": alice.http.headers["Authorization"]}
        listed = await client.get("/orders", headers=as_alice)
        assert listed.status_code == 200, listed.text
        assert [o["id"] for o in listed.json()["items"]] == [ask["id"]]
        one = await client.get(f"/orders/{ask['id']}", headers=as_alice)
        assert one.status_code == 200, one.text
        order = one.json()
        assert order == listed.json()["items"][0]
        assert (order["quantity"], order["filled_quantity"], order["remaining_quantity"]) == (
            10,
            4,
            6,
        )
        assert (order["status"], order["type"]) == ("partially_filled", "limit")
        # Its prices are stored in ticks, and the tick size went with the symbol's rules.
        assert (order["price"], order["average_price"]) == (None, None)
        # Its symbol still finds it (it was a 404, as for a symbol never traded); bob has none.
        by_symbol = await client.get("/orders", params={"symbol": "SOL-DELIST"}, headers=as_alice)
        assert [o["id"] for o in by_symbol.json()["items"]] == [ask["id"]]
        as_bob_open = {"Authorization": bob.http.headers["Authorization"]}
        none = await client.get(
            "/orders", params={"symbol": "SOL-DELIST", "status": "open"}, headers=as_bob_open
        )
        assert none.status_code == 404
        cancel = await client.delete(f"/orders/{ask['id']}", headers=as_alice)
        assert cancel.status_code == 409, cancel.text
        assert cancel.json()["error"]["code"] == "symbol_not_traded"
        assert "JOBCAST_ORDER_SYMBOLS" in cancel.json()["error"]["message"]
        as_bob = {"Authorization": bob.http.headers["Authorization"]}
        ended = await client.delete(f"/orders/{bid['id']}", headers=as_bob)
        assert ended.json()["error"]["code"] == "order_not_open"

    run_in_process(settings, scenario)

    # Nothing was queued for it: where the symbol is traded, the order rests as it was.
    assert alice.order(ask["id"])["status"] == "partially_filled"
    assert alice.order(ask["id"])["price"] == "20.50"


def test_the_tape_names_no_order_and_each_party_reads_its_own_fills(
    stack: SharedStack, market: tuple[Trader, Trader, EventTap]
) -> None:
    # The tape showed both order ids of every trade to every tenant: anyone could link all the
    # fills of another's resting order, and so estimate its hidden size.
    alice, bob, tap = market
    ask = alice.place(symbol="SOL-TAPE", side="sell", quantity=10, price="20.50").json()
    first = bob.place(symbol="SOL-TAPE", side="buy", quantity=4, price="20.50").json()
    second = bob.place(symbol="SOL-TAPE", side="buy", quantity=3, price="20.50").json()
    tap.wait_order(second["id"], "order.filled")
    tap.catch_up()

    public = alice.http.get("/market/SOL-TAPE/trades").json()["trades"]
    events = [e["data"] for e in tap.of(lambda e: e["channel"] == "market.SOL-TAPE")]
    assert [(t["seq"], t["quantity"], t["taker_side"]) for t in public] == [
        (2, 3, "buy"),
        (1, 4, "buy"),
    ]
    assert [sorted(t) for t in public] == [sorted(public[0])] * 2
    assert [t for t in public if names_an_order(t)] == []
    assert {t["buy_order_id"] for t in public} == {""}  # an older client requires the field
    trade_events = [d for d in events if "seq" in d and "taker_side" in d]
    assert len(trade_events) == 2
    assert [d for d in events if names_an_order(d)] == []

    def fills(trader: Trader) -> list[tuple[int, str, str, int]]:
        answer = trader.http.get("/market/SOL-TAPE/fills").json()
        return [(f["seq"], f["order_id"], f["side"], f["quantity"]) for f in answer["fills"]]

    assert fills(alice) == [(2, ask["id"], "sell", 3), (1, ask["id"], "sell", 4)]
    assert fills(bob) == [(2, second["id"], "buy", 3), (1, first["id"], "buy", 4)]
    carol = new_trader(stack.redis, stack.settings, stack.url, "carol")
    assert fills(carol) == []
    carol.http.close()
