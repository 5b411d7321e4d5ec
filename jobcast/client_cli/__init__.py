"""The user commands of `jobcast` (login, whoami, submit, jobs, watch, orders, market, chat), on
`jobcast.client`. `jobcast.cli` registers them next to the operator commands."""

from __future__ import annotations

import typer

from jobcast.client_cli import chat, login, submit, watch, whoami
from jobcast.client_cli.common import EXIT_CODES_HELP, flowing_help
from jobcast.client_cli.jobs import jobs_cli
from jobcast.client_cli.market import market_cli
from jobcast.client_cli.orders import orders_cli


def register(cli: typer.Typer) -> None:
    cli.command("login", epilog=login.EXAMPLE)(login.login)
    cli.command("whoami", epilog=whoami.EXAMPLE)(whoami.whoami)
    cli.command("submit", epilog=f"{submit.EXAMPLE}\n\n{EXIT_CODES_HELP}")(submit.submit)
    cli.add_typer(jobs_cli, name="jobs", epilog=f"Example: jobcast jobs ls\n\n{EXIT_CODES_HELP}")
    cli.command("watch", help=flowing_help(watch.watch), epilog=watch.EXAMPLE)(watch.watch)
    cli.add_typer(orders_cli, name="orders", epilog="Example: jobcast orders ls")
    cli.add_typer(market_cli, name="market", epilog="Example: jobcast market ls")
    cli.command("chat", epilog=chat.EXAMPLE)(chat.chat)
