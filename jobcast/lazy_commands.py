"""Commands of `jobcast` listed by name and summary, their modules imported only to run them.

Each command's module is what it needs and no more: the user commands load the client (httpx,
websockets, the API's models), `up` the launcher. Imported all at once, they cost every run,
`jobcast --version` included, most of a second of CPU before it did anything.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand

if TYPE_CHECKING:
    from typer._click import Command, Context


class LazyCommand(TyperCommand):
    """A command `--help` lists by `name` and `summary`; running it (or asking its own help)
    imports `module`, whose `register(cli)` adds the command to a Typer as it would be added
    to `jobcast`'s."""

    def __init__(self, name: str, module: str, summary: str = "", hidden: bool = False) -> None:
        super().__init__(name, help=summary, hidden=hidden)
        self.module = module

    def make_context(
        self, info_name: str | None, args: list[str], parent: Context | None = None, **extra: Any
    ) -> Context:
        # The context is the real command's, so from here on click runs that one.
        return self.loaded().make_context(info_name, args, parent=parent, **extra)

    def loaded(self) -> Command:
        return _load(self.module, self.name or "")


@cache
def _load(module: str, name: str) -> Command:
    cli = typer.Typer()
    import_module(module).register(cli)
    return typer.main.get_group(cli).commands[name]
