"""`jobcast market ls|book|trades|fills`: the traded symbols, their books, trades and your fills."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.table import Table

from jobcast.client import Client, StreamOptions
from jobcast.client_cli.common import (
    client_session,
    console,
    print_json,
    print_listing,
    tables_width,
)
from jobcast.client_cli.fitting import Cell, Field, fitted_table
from jobcast.client_cli.summary import said_if_empty
from jobcast.schemas import BookDepth, SymbolInfo

market_cli = typer.Typer(
    help="Market data: symbols, books, trades and your fills.", no_args_is_help=True
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
#: Least seconds between two redraws of a watched book (events may come much faster); also
#: keeps its book reads (one per redraw) well inside the default read budget.
REDRAW_INTERVAL = 0.25


@market_cli.command(
    "ls",
    # `jobcast market --help` lists a docstring's line breaks as written.
    short_help="List the traded symbols and the rules an order must meet.",
    epilog="Example: jobcast market ls",
)
def list_symbols(as_json: JsonOption = False) -> None:
    """List the traded symbols and the rules an order must meet: prices on the tick, quantities
    in lots, between the least and the most quantity."""
    with client_session(as_json) as client:
        symbols = client.symbols()
    if as_json:
        print_json([s.model_dump(mode="json") for s in symbols])
    else:
        print_listing(symbol_table(symbols, tables_width()), "no symbols are traded")


#: A symbol's rules, the last needed left out first in a narrow terminal.
SYMBOL_FIELDS = (
    Field("symbol"),
    Field("tick"),
    Field("lot", drop=1),
    Field("min qty", drop=2),
    Field("max qty", drop=3),
    Field("max notional", drop=4),
)
LADDER_FIELDS = (Field("bid qty"), Field("price"), Field("ask qty"))
TRADE_FIELDS = (
    Field("seq", drop=2),
    Field("time"),
    Field("price"),
    Field("qty"),
    Field("taker", drop=1),
)
#: One of your fills: the trade, with your side and your order's id.
FILL_FIELDS = (
    Field("seq", drop=3),
    Field("time"),
    Field("side"),
    Field("price"),
    Field("qty"),
    Field("order", drop=2),
    Field("taker", drop=1),
)


def symbol_table(symbols: list[SymbolInfo], width: int | None) -> Table:
    rows = [
        [
            s.symbol,
            s.tick_size,
            str(s.lot_size),
            str(s.min_quantity),
            str(s.max_quantity),
            s.max_notional,
        ]
        for s in symbols
    ]
    return fitted_table(SYMBOL_FIELDS, rows, width)


def ladder(book: BookDepth) -> Table:
    """Asks above (best lowest, nearest the middle), bids below: three short columns, which fit
    any terminal."""
    asks = [["", f"[red]{level.price}[/red]", str(level.quantity)] for level in reversed(book.asks)]
    bids = [[str(level.quantity), f"[green]{level.price}[/green]", ""] for level in book.bids]
    table = fitted_table(LADDER_FIELDS, [*asks, *bids], None, title=f"{book.symbol} book")
    return said_if_empty(table, EMPTY_BOOK)


#: Under a ladder watched on a terminal while its book is empty; on stderr alone when piped.
EMPTY_BOOK = "no orders rest on either side"


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
    _print_book(answer, as_json)


def _print_book(answer: BookDepth, as_json: bool) -> None:
    """A book as JSON, or as a ladder; an empty one as an empty list: nothing on stdout (a script
    counts 0 lines), said on stderr."""
    if as_json:
        print_json(answer)
    else:
        print_listing(ladder(answer), f"{EMPTY_BOOK} of {answer.symbol}")


def _watch_book(client: Client, symbol: str, depth: int, as_json: bool) -> None:
    snapshots = _book_snapshots(client, symbol, depth)
    if as_json or not console.is_terminal or console.is_dumb_terminal:
        # A Live display redraws only on a capable terminal: piped, it printed nothing until it
        # stopped. Each book is printed whole instead, and flushed (rich flushes each print).
        # An empty book as without --watch: its header alone read as if the output was cut off.
        for snapshot in snapshots:
            _print_book(snapshot, as_json)
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
    rows = [
        [str(t.seq), _clock(t.ts), t.price, str(t.quantity), t.taker_side] for t in answer.trades
    ]
    _print_tape(answer, as_json, TRADE_FIELDS, rows, f"{symbol} trades", "no trades yet")


@market_cli.command("fills", epilog="Example: jobcast market fills BTC-USD --limit 200")
def fills(
    symbol: str,
    limit: Annotated[
        int,
        typer.Option(min=1, max=1000, help="How many of the symbol's recent trades to look in."),
    ] = 50,
    as_json: JsonOption = False,
) -> None:
    """Show your own fills of a symbol, newest first.

    They are the trades of your orders among the symbol's most recent trades (--limit)."""
    with client_session(as_json) as client:
        answer = client.fills(symbol, limit)
    rows = [
        [str(f.seq), _clock(f.ts), f.side, f.price, str(f.quantity), f.order_id, f.taker_side]
        for f in answer.fills
    ]
    empty = f"no fills of yours among the last {limit} trades"
    _print_tape(answer, as_json, FILL_FIELDS, rows, f"{symbol} fills", empty)


def _print_tape(
    answer: Any,
    as_json: bool,
    fields: Sequence[Field],
    rows: Sequence[Sequence[Cell]],
    title: str,
    empty: str,
) -> None:
    """A trades or fills answer: as JSON, or as a table (said on stderr when it is empty)."""
    if as_json:
        print_json(answer)
        return
    print_listing(fitted_table(fields, rows, tables_width(), title=title), empty)


def _clock(ts: float) -> str:
    """A trade's time of day, in local time."""
    return time.strftime("%H:%M:%S", time.localtime(ts))


def register(cli: typer.Typer) -> None:
    """Add this command to `cli` (jobcast.lazy_commands runs it)."""
    cli.add_typer(market_cli, name="market", epilog="Example: jobcast market ls")
