"""`jobcast orders place|show|cancel|ls`."""

from __future__ import annotations

import itertools
import re
import time
from contextlib import closing
from typing import TYPE_CHECKING, Annotated

import typer
import typer.core
from rich.table import Table
from rich.text import Text

from jobcast.client import Client
from jobcast.client_cli.common import (
    client_session,
    console,
    err_console,
    print_json,
    print_listing,
    tables_width,
)
from jobcast.client_cli.exit_codes import (
    EXIT_JOB_FAILED,
)
from jobcast.client_cli.fitting import Cell, Field, fitted_record, fitted_table
from jobcast.schemas import Order
from jobcast.schemas.orders import (
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
)

if TYPE_CHECKING:  # the click typer carries within it, whose hooks PlaceCommand overrides
    from typer._click import Context as ClickContext

orders_cli = typer.Typer(help="Your orders.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
#: Seconds `orders cancel` waits to show the order cancelled (matching applies a cancel in its
#: turn, after the 202: the order as it was then), and `orders place` an order that cannot rest
#: (IOC, market) ended: the 201 shows it `open`, which it never stays.
SHOWN_ENDED_WITHIN = 5.0
ENDED = frozenset({"filled", "cancelled", "rejected"})


#: An order's columns, the last needed left out first in a narrow terminal.
ORDER_FIELDS = (
    Field("id"),  # copied into the next command: never cut, never left out
    Field("symbol"),
    Field("side", drop=1),
    Field("type", drop=8),
    Field("price", drop=2),
    Field("qty", drop=3),
    Field("filled", drop=6),
    Field("avg price", drop=9),
    Field("status"),
    Field("reason", text=True, drop=5),
)


def order_table(orders: list[Order], width: int | None) -> Table:
    return fitted_table(ORDER_FIELDS, [_order_row(o) for o in orders], width)


def order_record(order: Order, width: int | None) -> Table:
    """One order (`orders show`, and what `place` and `cancel` answer): a field a line on a
    terminal, the one-row table piped."""
    return fitted_record(ORDER_FIELDS, _order_row(order), width)


def _order_row(o: Order) -> list[Cell]:
    return [
        o.id,
        o.symbol,
        o.side,
        o.type,
        o.price or "",
        str(o.quantity),
        str(o.filled_quantity),
        o.average_price or "",
        o.status,
        Text(o.reason or ""),
    ]


#: A word click would take for an option but that is a negative number (`buy -5`).
NEGATIVE_NUMBER = re.compile(r"-[0-9]+(\.[0-9]*)?")


def _positive(quantity: int) -> int:
    """Refused here, as the same number written `buy -5` is, with the same words (exit 2)."""
    if quantity < 1:
        raise quantity_refused(str(quantity))
    return quantity


def quantity_refused(given: str, ctx: ClickContext | None = None) -> typer.BadParameter:
    return typer.BadParameter(
        f"must be a positive whole number (got {given}).", ctx, param_hint="'quantity'"
    )


class PlaceCommand(typer.core.TyperCommand):
    """`orders place`, whose quantity written negative click reads as an unknown option
    (`No such option: -5`): said as the wrong quantity it is. A mistyped option (`--pricee`)
    keeps click's own message, which names the options that are near."""

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        given = self._negative_number(args)
        if given is not None:
            raise quantity_refused(given, ctx)
        return super().parse_args(ctx, args)

    def _negative_number(self, args: list[str]) -> str | None:
        """The first word before any `--` that is a negative number and not an option's value
        (`--price -1`): click would refuse it as an option."""
        takes_value = {
            name
            for param in self.params
            if isinstance(param, typer.core.TyperOption) and not param.is_flag
            for name in param.opts
        }
        before = ""
        for word in args:
            if word == "--":
                return None
            if NEGATIVE_NUMBER.fullmatch(word) and before not in takes_value:
                return word
            before = word
        return None


@orders_cli.command(
    "place",
    cls=PlaceCommand,
    # `jobcast orders --help` lists a docstring's line breaks as written.
    short_help="Place an order; exit 1 when it is rejected.",
    epilog="Example: jobcast orders place BTC-USD buy 5 --price 100.5",
)
def place(
    symbol: Annotated[str, typer.Argument(help="A traded symbol: jobcast market ls.")],
    # Any case: the server's spelling is sent (its own check is exact).
    side: Annotated[Side, typer.Argument(case_sensitive=False, help="buy or sell.")],
    quantity: Annotated[
        int,
        typer.Argument(
            callback=_positive,
            help="How many units: a positive whole number, a multiple of the symbol's lot "
            "(jobcast market ls).",
        ),
    ],
    price: Annotated[str | None, typer.Option(help="Limit price (limit orders).")] = None,
    order_type: Annotated[
        OrderType, typer.Option("--type", case_sensitive=False, help="limit or market.")
    ] = "limit",
    tif: Annotated[
        TimeInForce | None, typer.Option(case_sensitive=False, help="GTC or IOC.")
    ] = None,
    client_order_id: Annotated[
        str | None, typer.Option(help="Your id; repeats return the first order.")
    ] = None,
    stp: Annotated[
        SelfTradePrevention,
        typer.Option(
            case_sensitive=False,
            help="Self-trade prevention, should it meet a resting order of yours: none (trade), "
            "cancel_newest (this one's remainder) or cancel_oldest (the resting one).",
        ),
    ] = "none",
    as_json: JsonOption = False,
) -> None:
    """Place an order. An IOC or market order is shown as matching ended it: filled, cancelled
    (what did not fill at once) or rejected; a GTC limit order as accepted (open), before
    matching. Exit 1 when the order is rejected."""
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
        rests = order.type == "limit" and order.time_in_force == "GTC"
        if not rests:
            order = _ended(client, order)
    print_json(order) if as_json else console.print(order_record(order, tables_width()))
    if order.status == "rejected":
        raise typer.Exit(EXIT_JOB_FAILED)
    if not rests:
        _not_ended_yet(order, "matching has not handled it yet", as_json)


@orders_cli.command("show", epilog="Example: jobcast orders show o_0123456789abcdef0123")
def show(order_id: str, as_json: JsonOption = False) -> None:
    """Show one of your orders as it is now."""
    with client_session(as_json) as client:
        order = client.order(order_id)
    print_json(order) if as_json else console.print(order_record(order, tables_width()))


@orders_cli.command("cancel", epilog="Example: jobcast orders cancel o_0123456789abcdef0123")
def cancel(order_id: str, as_json: JsonOption = False) -> None:
    """Cancel an order's open remainder; shows the order once matching has applied it."""
    with client_session(as_json) as client:
        order = _ended(client, client.cancel_order(order_id))
    print_json(order) if as_json else console.print(order_record(order, tables_width()))
    _not_ended_yet(order, "cancel requested; matching has not applied it yet", as_json)


def _ended(client: Client, order: Order) -> Order:
    """The order once it has ended, or as it is after `SHOWN_ENDED_WITHIN` seconds."""
    deadline = time.monotonic() + SHOWN_ENDED_WITHIN
    while order.status not in ENDED and time.monotonic() < deadline:
        time.sleep(0.05)
        order = client.order(order.id)
    return order


def _not_ended_yet(order: Order, what: str, as_json: bool) -> None:
    if order.status not in ENDED and not as_json:
        said = f"{what} (jobcast orders show {order.id})"
        err_console.print(said, markup=False, highlight=False)


@orders_cli.command("ls", epilog="Example: jobcast orders ls --symbol BTC-USD --status open")
def list_orders(
    symbol: Annotated[str | None, typer.Option(help="Only this symbol.")] = None,
    status: Annotated[
        OrderStatus | None, typer.Option(case_sensitive=False, help="Only this status.")
    ] = None,
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
        empty = "no orders" + (f" {status}" if status else "")
        print_listing(order_table(orders, tables_width()), empty)


def register(cli: typer.Typer) -> None:
    """Add this command to `cli` (jobcast.lazy_commands runs it)."""
    cli.add_typer(orders_cli, name="orders", epilog="Example: jobcast orders ls")
