"""`jobcast chat ROOM`: an interactive chat room in the terminal."""

from __future__ import annotations

import asyncio
import sys
import threading
from asyncio import FIRST_COMPLETED
from typing import Annotated

import typer
from rich.markup import escape

from jobcast.channel_names import NAME_RULE, is_channel_name
from jobcast.client import errors
from jobcast.client.chat import ChatRoom
from jobcast.client.config import resolve
from jobcast.client.resume import Event
from jobcast.client_cli.common import (
    console,
    err_console,
    exit_code_for,
    fail_usage,
    report_error,
)
from jobcast.client_cli.exit_codes import (
    EXIT_INTERRUPTED,
)
from jobcast.schemas.text import escape_controls

#: Longest line read from stdin, past any message a server takes (JOBCAST_CHAT_MAX_MESSAGE_BYTES
#: is 2000 by default): a longer one is not sent, and not held in memory either.
MAX_LINE = 16 * 1024
#: What the stdin reader hands on for a line over MAX_LINE (it has read past the rest of it).
TOO_LONG = "\0too long"
#: Longest wait at the input's end for the server's answers to what was said: a server that
#: has not answered by then is not waited for (the messages were sent all the same).
SETTLE_TIMEOUT = 5.0

EXAMPLE = "Example: jobcast chat lobby (type a line and Enter to send; Ctrl-D or Ctrl-C to leave)"


def chat(room: Annotated[str, typer.Argument(help="The room's name.")]) -> None:
    """Join ROOM: see its recent history and who is there, then talk."""
    _check_room(room)
    config = None
    try:
        config = resolve()
        asyncio.run(_talk(config.base_url, config.require_key(), room))
    except errors.JobcastError as exc:
        report_error(exc, as_json=False, config=config)
        raise typer.Exit(exit_code_for(exc)) from None
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _check_room(room: str) -> None:
    """A name the server would refuse is a wrong argument (exit 2), said in the room's terms
    before connecting: the server's answer named its protocol (`bad_channel`, "chat.{room}")."""
    if not is_channel_name(room):
        fail_usage(f"{room!r} is not a room name: a room's name is {NAME_RULE}.")


async def _talk(base_url: str, api_key: str, room: str) -> None:
    async with ChatRoom(base_url, api_key, room) as chat_room:
        printer = asyncio.create_task(_print(chat_room))
        lines: asyncio.Queue[str] = asyncio.Queue()
        reader = threading.Thread(
            target=_read_lines, args=(asyncio.get_running_loop(), lines), daemon=True
        )
        reader.start()
        await _say_lines(chat_room, lines, printer)
        if not printer.done():
            await _settle(chat_room, printer)
        printer.cancel()


async def _say_lines(
    chat_room: ChatRoom, lines: asyncio.Queue[str], printer: asyncio.Task[None]
) -> None:
    """Say each line read until the input ends or the room's printer has stopped."""
    while line := await lines.get():
        if line == TOO_LONG:
            err_console.print(f"[red]too_long[/red]: a line over {MAX_LINE} characters: not sent")
        elif line.strip():
            await chat_room.say(line.rstrip("\n"))
        if printer.done():
            return


async def _settle(chat_room: ChatRoom, printer: asyncio.Task[None]) -> None:
    """At the input's end (Ctrl-D, or a pipe's end, which comes as soon as its lines are
    read), wait for the server's answers before leaving: left unread, a message it refused
    (too large, too fast) was never said to be refused, and the room's history not shown."""
    settled = asyncio.ensure_future(chat_room.settle())
    await asyncio.wait({settled, printer}, timeout=SETTLE_TIMEOUT, return_when=FIRST_COMPLETED)
    settled.cancel()


def _read_lines(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str]) -> None:
    """Hand stdin's lines to `lines`, then "" at its end. A daemon thread of its own: one of
    the loop's executor blocked in `readline` held Ctrl-C's exit until Enter was pressed
    (`asyncio.run` waits for those threads), and a daemon is not waited for."""
    while True:
        line = sys.stdin.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            while line and not line.endswith("\n"):  # read on past the rest of it
                line = sys.stdin.readline(MAX_LINE)
            line = TOO_LONG if line else ""
        try:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        except RuntimeError:  # the loop is closed: the command is ending
            return
        if not line:
            return


async def _print(chat_room: ChatRoom) -> None:
    async for event in chat_room.messages():
        console.print(_line(event), highlight=False)


def _line(event: Event) -> str:
    data = event.data
    if event.type == "chat.history":
        # The history's messages are whole events, as they were pushed: what was said is in
        # each one's `data`.
        lines = [_said(m.get("data") or {}) for m in data.get("messages") or []]
        people = ", ".join(shown(p.get("name")) for p in data.get("present") or [])
        return "\n".join([*lines, f"[dim]-- present: {people or 'nobody'}[/dim]"])
    if event.type == "chat.message":
        return _said(data)
    if event.type == "error":
        return f"[red]{shown(data.get('code'))}[/red]: {shown(data.get('message'))}"
    who = shown((data.get("principal") or data.get("from") or {}).get("name", "someone"))
    return f"[dim]-- {who} {'joined' if event.type == 'chat.join' else 'left'}[/dim]"


def _said(message: dict[str, object]) -> str:
    sender = message.get("from")
    name = sender.get("name") if isinstance(sender, dict) else "?"
    # A message may hold line breaks (the server takes them): its further lines are indented,
    # so none can pass for a line of the room's own ("-- someone joined").
    text = "\n  ".join(shown(line) for line in str(message.get("text")).split("\n"))
    return f"[bold]{shown(name)}[/bold]: {text}"


def shown(value: object) -> str:
    """What others wrote, as text: rich markup in it (`[red]`) is not applied and a control
    character is shown as `\\xNN`, so no one's name or line can colour, move or forge what
    this terminal shows (names made before they were checked may hold them)."""
    return escape(escape_controls(str(value), keep="\t"))  # a tab is harmless


def register(cli: typer.Typer) -> None:
    """Add this command to `cli` (jobcast.lazy_commands runs it)."""
    cli.command("chat", epilog=EXAMPLE)(chat)
