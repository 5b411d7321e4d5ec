"""`jobcast`'s command list: each command named and summed up without loading it."""

from __future__ import annotations

import inspect

import pytest
from typer.testing import CliRunner

from jobcast.cli import COMMANDS, cli
from jobcast.lazy_commands import LazyCommand


@pytest.mark.parametrize("listed", COMMANDS, ids=lambda command: command.name)
def test_each_command_is_listed_with_its_own_first_paragraph(listed: LazyCommand) -> None:
    # The overview's lines are written out so that listing needs no command's module; a
    # docstring changed without them would leave `jobcast --help` saying something else.
    real = listed.loaded()
    first = inspect.cleandoc(real.help or "").split("\n\n")[0].replace("\n", " ")
    shown = "" if real.hidden else first  # a hidden one is not listed
    assert (listed.name, listed.help or "", listed.hidden) == (real.name, shown, real.hidden)


def test_tail_says_the_command_that_follows_channels() -> None:
    # `jobcast tail user.me` said only "No such command 'tail'."
    done = CliRunner().invoke(cli, ["tail", "user.me", "--since", "0-0"], env={"COLUMNS": "200"})
    assert done.exit_code == 2
    assert "No such command 'tail'. Use `jobcast watch user.me --since 0-0`" in done.output


def test_tail_is_not_listed() -> None:
    overview = CliRunner().invoke(cli, ["--help"], env={"COLUMNS": "200"}).output
    assert "tail" not in overview
    assert "watch" in overview
