"""`jobcast chat ROOM`: an interactive chat room in the terminal."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer

from jobcast.client import errors
from jobcast.client.chat import ChatRoom
from jobcast.client.config import resolve
from jobcast.client.resume import Event
from jobcast.client_cli.common import console, err_console, exit_code_for, report_error

#: Longest line read from stdin, past any message a server takes (JOBCAST_CHAT_MAX_MESSAGE_BYTES
#: is 2000 by default): a longer one is not sent, and not held in memory either.
MAX_LINE = 16 * 1024

EXAMPLE = "Example: jobcast chat lobby (type a line and Enter to send; Ctrl-D or Ctrl-C to leave)"


def chat(room: Annotated[str, typer.Argument(help="The room's name.")]) -> None:
    """Join ROOM: see its recent history and who is there, then talk."""
    try:
        config = resolve()
        asyncio.run(_talk(config.base_url, config.require_key(), room))
    except errors.JobcastError as exc:
        report_error(exc, as_json=False)
        raise typer.Exit(exit_code_for(exc)) from None
    except (KeyboardInterrupt, EOFError):
        pass


async def _talk(base_url: str, api_key: str, room: str) -> None:
    async with ChatRoom(base_url, api_key, room) as chat_room:
        printer = asyncio.create_task(_print(chat_room))
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline, MAX_LINE + 1):
            if len(line) > MAX_LINE:
                err_console.print(
                    f"[red]too_long[/red]: a line over {MAX_LINE} characters: not sent"
                )
                await loop.run_in_executor(None, _skip_rest_of_line, line)
            elif line.strip():
                await chat_room.say(line.rstrip("\n"))
            if printer.done():
                break
        printer.cancel()


def _skip_rest_of_line(read: str) -> None:
    """Read on past the end of an overlong line, `MAX_LINE` characters at a time."""
    while read and not read.endswith("\n"):
        read = sys.stdin.readline(MAX_LINE)


async def _print(chat_room: ChatRoom) -> None:
    async for event in chat_room.messages():
        console.print(_line(event), highlight=False)


def _line(event: Event) -> str:
    data = event.data
    if event.type == "chat.history":
        # The history's messages are whole events, as they were pushed: what was said is in
        # each one's `data`.
        lines = [_said(m.get("data") or {}) for m in data.get("messages") or []]
        people = ", ".join(str(p.get("name")) for p in data.get("present") or [])
        return "\n".join([*lines, f"[dim]-- present: {people or 'nobody'}[/dim]"])
    if event.type == "chat.message":
        return _said(data)
    if event.type == "error":
        return f"[red]{data.get('code')}[/red]: {data.get('message')}"
    who = (data.get("principal") or data.get("from") or {}).get("name", "someone")
    return f"[dim]-- {who} {'joined' if event.type == 'chat.join' else 'left'}[/dim]"


def _said(message: dict[str, object]) -> str:
    sender = message.get("from")
    name = sender.get("name") if isinstance(sender, dict) else "?"
    return f"[bold]{name}[/bold]: {message.get('text')}"
