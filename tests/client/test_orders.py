"""Orders and market data through the client and the CLI, against a real orders worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from jobcast.client import Client, Event, InvalidRequestError
from tests.client.conftest import ClientStack
from tests.support.processes import REPO_ROOT


def until(events: Iterator[Event], order_id: str, status: str) -> Event:
    """The event saying `order_id` reached `status`."""
    for event in events:
        if event.data.get("id") == order_id and event.data.get("status") == status:
            return event
    raise AssertionError("the stream ended")


def test_place_fill_cancel_and_read_the_market(stack: ClientStack) -> None:
    key, _ = stack.new_key("trader")
    with Client(stack.url, key) as client:
        events = client.events("user.me", since="0-0")
        ask = client.place("ETH-USD", "sell", 3, "2000", client_order_id="ask-1")
        assert client.place("ETH-USD", "sell", 3, "2000", client_order_id="ask-1").id == ask.id
        bid = client.place("ETH-USD", "buy", 2, "2000")
        until(events, bid.id, "filled")
        until(events, ask.id, "partially_filled")
        book = client.book("ETH-USD", depth=5)
        trades = client.trades("ETH-USD")
        client.cancel_order(ask.id)
        until(events, ask.id, "cancelled")
        events.close()
        batch = client.place_batch(
            [
                {"symbol": "ETH-USD", "side": "buy", "quantity": 1, "price": "1"},
                {"symbol": "NOPE", "side": "buy", "quantity": 1, "price": "1"},
            ]
        )
        listed = [o.id for o in client.orders(symbol="ETH-USD")]
        with pytest.raises(InvalidRequestError) as refused:
            client.place("ETH-USD", "buy", 1, "1.234")

    assert [(lv.price, lv.quantity) for lv in book.asks] == [("2000.00", 1)]
    assert [(t.price, t.quantity) for t in trades.trades] == [("2000.00", 2)]
    assert [r.status for r in batch.results] == ["accepted", "rejected"]
    assert batch.results[1].error is not None
    assert batch.results[1].error.code == "unknown_symbol"
    assert listed[:2] == [ask.id, bid.id]
    assert refused.value.code == "price_off_tick"


def test_cli_lists_orders_and_shows_the_book_as_json(stack: ClientStack) -> None:
    key, _ = stack.new_key("cli-trader")
    env = {**stack.env(), "JOBCAST_API_KEY": key}

    def jobcast(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "jobcast", *args],
            capture_output=True,
            text=True,
            env={**_base_env(), **env},
            cwd=REPO_ROOT,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    placed = json.loads(
        jobcast("orders", "place", "SOL-USD", "buy", "4", "--price", "10", "--json")
    )
    listed = json.loads(jobcast("orders", "ls", "--symbol", "SOL-USD", "--json"))
    assert [o["id"] for o in listed] == [placed["id"]]
    book = json.loads(jobcast("market", "book", "SOL-USD", "--json"))
    assert book["symbol"] == "SOL-USD"


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("JOBCAST_")}
