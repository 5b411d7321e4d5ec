"""`jobcast orders place|cancel|ls` and `jobcast market book|trades`."""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from typing import Annotated

import typer
from rich.live import Live
from rich.table import Table

from jobcast.client import Client, StreamOptions
from jobcast.client_cli.common import client_session, console, err_console, print_json
from jobcast.client_cli.summary import id_column, whole_table
from jobcast.schemas import BookDepth, Order

orders_cli = typer.Typer(help="Your orders.", no_args_is_help=True)
market_cli = typer.Typer(help="Market data: books and trades.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
#: Least seconds between two redraws of a watched book (events may come much faster); also
#: keeps its book reads (one per redraw) well inside the default read budget.
REDRAW_INTERVAL = 0.25
#: Seconds `orders cancel` waits to show the order cancelled: matching applies a cancel in its
#: turn, after the 202 (the order as it was then).
CANCEL_SHOWN_WITHIN = 5.0
ENDED = frozenset({"filled", "cancelled", "rejected"})


def order_table(orders: list[Order]) -> Table:
    table = whole_table(
        id_column(), "symbol", "side", "type", "price", "qty", "filled", "status", "reason"
    )
    for o in orders:
        table.add_row(
            o.id,
            o.symbol,
            o.side,
            o.type,
            o.price or "",
            str(o.quantity),
            str(o.filled_quantity),
            o.status,
            o.reason or "",
        )
    return table


@orders_cli.command("place", epilog="Example: jobcast orders place BTC-USD buy 5 --price 100.5")
def place(
    symbol: str,
    side: Annotated[str, typer.Argument(help="buy or sell")],
    quantity: int,
    price: Annotated[str | None, typer.Option(help="Limit price (limit orders).")] = None,
    order_type: Annotated[str, typer.Option("--type", help="limit or market.")] = "limit",
    tif: Annotated[str | None, typer.Option(help="GTC or IOC.")] = None,
    client_order_id: Annotated[
        str | None, typer.Option(help="Your id; repeats return the first order.")
    ] = None,
    stp: Annotated[
        str,
        typer.Option(
            help="Self-trade prevention, should it meet a resting order of yours: none (trade), "
            "cancel_newest (this one's remainder) or cancel_oldest (the resting one)."
        ),
    ] = "none",
    as_json: JsonOption = False,
) -> None:
    """Place an order."""
    with client_session(as_json) as client:
        order = client.place(
            symbol,
            side,
            quantity,
            price,
            type=order_type,
            time_in_force=tif,
            client_order_id=client_order_id,
            self_trade_prevention=stp,
        )
    print_json(order) if as_json else console.print(order_table([order]))


@orders_cli.command("show", epilog="Example: jobcast orders show o_0123456789abcdef0123")
def show(order_id: str, as_json: JsonOption = False) -> None:
    """Show one of your orders as it is now."""
    with client_session(as_json) as client:
        order = client.order(order_id)
    print_json(order) if as_json else console.print(order_table([order]))


@orders_cli.command("cancel", epilog="Example: jobcast orders cancel o_0123456789abcdef0123")
def cancel(order_id: str, as_json: JsonOption = False) -> None:
    """Cancel an order's open remainder; shows the order once matching has applied it."""
    with client_session(as_json) as client:
        order = client.cancel_order(order_id)
        deadline = time.monotonic() + CANCEL_SHOWN_WITHIN
        while order.status not in ENDED and time.monotonic() < deadline:
            time.sleep(0.1)
            order = client.order(order_id)
    if as_json:
        print_json(order)
        return
    console.print(order_table([order]))
    if order.status not in ENDED:
        err_console.print(
            f"cancel requested; matching has not applied it yet (jobcast orders show {order_id})",
            highlight=False,
        )


@orders_cli.command("ls", epilog="Example: jobcast orders ls --symbol BTC-USD --status open")
def list_orders(
    symbol: Annotated[str | None, typer.Option(help="Only this symbol.")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 100,
    newest: Annotated[
        bool, typer.Option("--newest", help="The most recently placed first (default: oldest).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List your orders."""
    with client_session(as_json) as client:
        found = client.orders(symbol, status, newest_first=newest)
        with closing(found):
            orders = list(itertools.islice(found, limit))
    if as_json:
        print_json([o.model_dump(mode="json") for o in orders])
    else:
        console.print(order_table(orders))


def ladder(book: BookDepth) -> Table:
    """Asks above (best lowest, nearest the middle), bids below."""
    table = whole_table("bid qty", "price", "ask qty", title=f"{book.symbol} book")
    for level in reversed(book.asks):
        table.add_row("", f"[red]{level.price}[/red]", str(level.quantity))
    for level in book.bids:
        table.add_row(str(level.quantity), f"[green]{level.price}[/green]", "")
    return table


@market_cli.command("book", epilog="Example: jobcast market book BTC-USD --depth 10 --watch")
def book(
    symbol: str,
    depth: Annotated[int, typer.Option(min=1, help="Levels per side.")] = 10,
    watch: Annotated[
        bool,
        typer.Option(
            help="Keep the ladder live until Ctrl-C; piped (or with --json), print the book "
            "again each time it changes."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Show a symbol's order book."""
    with client_session(as_json) as client:
        if watch:
            _watch_book(client, symbol, depth, as_json)
            return
        answer = client.book(symbol, depth)
    print_json(answer) if as_json else console.print(ladder(answer))


def _watch_book(client: Client, symbol: str, depth: int, as_json: bool) -> None:
    snapshots = _book_snapshots(client, symbol, depth)
    if as_json or not console.is_terminal or console.is_dumb_terminal:
        # A Live display redraws only on a capable terminal: piped, it printed nothing until it
        # stopped. Each book is printed whole instead, and flushed (rich flushes each print).
        for snapshot in snapshots:
            print_json(snapshot) if as_json else console.print(ladder(snapshot))
        return
    with Live(ladder(next(snapshots)), console=console) as live:
        for snapshot in snapshots:
            live.update(ladder(snapshot))


def _book_snapshots(client: Client, symbol: str, depth: int) -> Iterator[BookDepth]:
    """The book now, then again once the events are subscribed and after `market.*` events of
    the symbol, at most every REDRAW_INTERVAL; a book the same as the last one is not repeated.
    The events are followed on a thread that only flags a change, so a burst costs one read,
    and the last change of a burst is always read. The read after the subscription is what
    catches a change made between the first read and the subscription, which sends no event."""
    changed, failed = threading.Event(), queue.SimpleQueue[BaseException]()
    options = StreamOptions(on_subscribed=lambda _channel: changed.set())

    def follow() -> None:
        try:
            for _event in client.events(f"market.{symbol}", options=options):
                changed.set()
        except BaseException as exc:
            failed.put(exc)
            changed.set()

    threading.Thread(target=follow, name="book-events", daemon=True).start()
    last = client.book(symbol, depth)
    yield last
    while True:
        changed.wait()
        changed.clear()
        if not failed.empty():
            raise failed.get()
        snapshot = client.book(symbol, depth)
        if snapshot != last:
            last = snapshot
            yield snapshot
        time.sleep(REDRAW_INTERVAL)


@market_cli.command("trades", epilog="Example: jobcast market trades BTC-USD --limit 20")
def trades(
    symbol: str,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Most recent first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Show a symbol's recent trades."""
    with client_session(as_json) as client:
        answer = client.trades(symbol, limit)
    if as_json:
        print_json(answer)
        return
    table = whole_table("seq", "time", "price", "qty", "taker", title=f"{symbol} trades")
    for t in answer.trades:
        stamp = time.strftime("%H:%M:%S", time.localtime(t.ts))
        table.add_row(str(t.seq), stamp, t.price, str(t.quantity), t.taker_side)
    console.print(table)
