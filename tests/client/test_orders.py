"""Orders and market data through the client and the CLI, against a real orders worker."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from jobcast.cli import cli
from jobcast.client import Client, Event, InvalidRequestError
from jobcast.schemas import TradeList
from tests.client.conftest import ClientStack


def until(events: Iterator[Event], *wanted: tuple[str, str]) -> None:
    """Read until every (order id, status) in `wanted` was seen, in whatever order the events
    come (one match commits the maker's and the taker's updates together)."""
    left = set(wanted)
    for event in events:
        left.discard((event.data.get("id"), event.data.get("status")))
        if not left:
            return
    raise AssertionError(f"the stream ended before {left}")


def test_place_fill_cancel_and_read_the_market(stack: ClientStack) -> None:
    key, _ = stack.new_key("trader")
    with Client(stack.url, key) as client:
        events = client.events("user.me", since="0-0")
        ask = client.place("ETH-USD", "sell", 3, "2000", client_order_id="ask-1")
        assert client.place("ETH-USD", "sell", 3, "2000", client_order_id="ask-1").id == ask.id
        bid = client.place("ETH-USD", "buy", 2, "2000")
        until(events, (bid.id, "filled"), (ask.id, "partially_filled"))
        book = client.book("ETH-USD", depth=5)
        trades = client.trades("ETH-USD")
        fills = client.fills("ETH-USD")
        client.cancel_order(ask.id)
        until(events, (ask.id, "cancelled"))
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
    # Both orders were the trader's own: a fill for each side of the one trade.
    assert [(f.order_id, f.side, f.quantity) for f in fills.fills] == [
        (bid.id, "buy", 2),
        (ask.id, "sell", 2),
    ]
    assert {f.seq for f in fills.fills} == {trades.trades[0].seq}
    assert [r.status for r in batch.results] == ["accepted", "rejected"]
    assert batch.results[1].error is not None
    assert batch.results[1].error.code == "unknown_symbol"
    assert listed[:2] == [ask.id, bid.id]
    assert refused.value.code == "price_off_tick"


def test_the_client_reads_a_tape_that_names_orders_as_older_servers_sent_it() -> None:
    older = {
        "symbol": "ETH-USD",
        "trades": [
            {
                "symbol": "ETH-USD",
                "seq": 7,
                "price": "2000.00",
                "quantity": 2,
                "buy_order_id": "o_00000000000000000001",
                "sell_order_id": "o_00000000000000000002",
                "taker_side": "buy",
                "ts": 1732760000.5,
            }
        ],
    }

    (trade,) = TradeList.model_validate(older).trades

    assert (trade.seq, trade.price, trade.quantity, trade.taker_side) == (7, "2000.00", 2, "buy")


def test_cli_lists_orders_and_shows_the_book_as_json(stack: ClientStack) -> None:
    key, _ = stack.new_key("cli-trader")
    env = {**stack.env(), "JOBCAST_API_KEY": key}

    def jobcast(*args: str) -> object:
        done = CliRunner().invoke(cli, list(args), env=env)
        assert done.exit_code == 0, done.stderr
        return json.loads(done.stdout)

    placed = jobcast("orders", "place", "SOL-USD", "buy", "4", "--price", "10", "--json")
    assert isinstance(placed, dict)
    listed = jobcast("orders", "ls", "--symbol", "SOL-USD", "--json")
    assert [o["id"] for o in listed] == [placed["id"]]  # type: ignore[attr-defined]
    assert jobcast("market", "book", "SOL-USD", "--json") == {
        "symbol": "SOL-USD",
        "bids": [{"price": "10.00", "quantity": 4}],
        "asks": [],
    }
    shown = jobcast("orders", "show", placed["id"], "--json")
    assert isinstance(shown, dict)
    assert shown["status"] == "open"
    # cancel shows the order once matching has applied the cancel (the 202 is the order as it
    # was: `open`, which read as if nothing had happened)
    cancelled = jobcast("orders", "cancel", placed["id"], "--json")
    assert isinstance(cancelled, dict)
    assert cancelled["status"] == "cancelled"


def test_cli_shows_an_ioc_or_market_order_as_matching_ended_it(stack: ClientStack) -> None:
    # It printed the 201's `open` (which such an order never stays) and exited 0 for a market
    # order rejected at once. SOL-USD has no resting orders in this package's tests.
    key, _ = stack.new_key("cli-taker")
    env = {**stack.env(), "JOBCAST_API_KEY": key}
    runner = CliRunner()

    rejected = runner.invoke(
        cli, ["orders", "place", "SOL-USD", "sell", "2", "--type", "market"], env=env
    )
    assert rejected.exit_code == 1, rejected.output
    assert "rejected" in rejected.stdout
    assert "no_liquidity" in rejected.stdout

    ioc = ["orders", "place", "SOL-USD", "buy", "5", "--price", "11", "--tif", "IOC", "--json"]
    done = runner.invoke(cli, ioc, env=env)
    assert done.exit_code == 0, done.output
    shown = json.loads(done.stdout)
    assert (shown["status"], shown["reason"]) == ("cancelled", "ioc_remainder")


def test_an_order_table_shows_the_price_it_filled_at(stack: ClientStack) -> None:
    # A market order's table showed no price at all: its average was only in --json.
    maker, _ = stack.new_key("cli-maker")
    taker, _ = stack.new_key("cli-market-taker")
    with Client(stack.url, maker) as client:
        # The best ask: nothing sells lower; a bid other tests left fills part of it.
        ask = client.place("ETH-USD", "sell", 1000, "0.05")
        try:
            done = CliRunner().invoke(
                cli,
                ["orders", "place", "ETH-USD", "buy", "1", "--type", "market"],
                env={**stack.env(), "JOBCAST_API_KEY": taker, "COLUMNS": "200"},
            )
        finally:  # off the book again: other tests read these books whole
            client.cancel_order(ask.id)
    assert done.exit_code == 0, done.output
    header, row = (
        [cell.strip() for cell in line.replace("┃", "│").split("│")[1:-1]]
        for line in done.stdout.splitlines()
        if "┃ id" in line or "│ o_" in line
    )
    shown = dict(zip(header, row, strict=True))
    assert (shown["type"], shown["price"], shown["status"]) == ("market", "", "filled")
    assert shown["avg price"] == "0.05"  # as a price is written, not "0.0500"
