"""A chat room over the WebSocket: say things and read what everyone says.

Chat has no resume: a room starts with its recent history, which is what a person rejoining
wants anyway, so this is one plain connection rather than the resuming event stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from jobcast.client import errors
from jobcast.client.resume import Event
from jobcast.client.stream import CLOSE_TIMEOUT, ws_url

#: Errors that concern one message (too long, too fast): reported, and the room goes on.
MESSAGE_ERRORS = frozenset({"rate_limited", "too_large", "bad_message", "publish_refused"})
#: The ref of `settle`'s ping, whose pong says the server has answered all that came before.
SETTLE_REF = "settle"


class ChatRoom:
    def __init__(self, base_url: str, api_key: str, room: str) -> None:
        self.base_url, self.api_key, self.channel = base_url, api_key, f"chat.{room}"
        self._ws: ClientConnection | None = None
        self._settled = asyncio.Event()

    async def __aenter__(self) -> ChatRoom:
        # As the event stream's: a room that backed up stops the socket being read, and a close
        # would wait websockets' 10 s for an answer it never reads.
        self._ws = await connect(
            ws_url(self.base_url), compression=None, proxy=None, close_timeout=CLOSE_TIMEOUT
        )
        try:
            await self._send({"type": "auth", "key": self.api_key})
            await self._send({"type": "subscribe", "channel": self.channel, "id": "join"})
            await self._joined()
        except BaseException:
            await self._ws.close()
            raise
        return self

    async def _joined(self) -> None:
        """Wait for the server's answer to the join: a refusal (a room name it does not take, a
        bad key) raises here, before anyone types into a room they are not in."""
        assert self._ws is not None
        async for raw in self._ws:
            message: dict[str, Any] = json.loads(raw)
            if message.get("type") == "error":
                raise errors.from_ws_error(message)
            if message.get("ref") == "join":
                return
        raise errors.StreamError("closed", "The server closed the connection before the join.")

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def say(self, text: str) -> None:
        await self._send({"type": "publish", "channel": self.channel, "data": {"text": text}})

    async def settle(self) -> None:
        """Return once the server has answered everything sent before: it answers a socket's
        frames in order, so its pong comes after any refusal of what was said. Someone must be
        reading `messages()` meanwhile: that is where the refusals, and the pong, are read."""
        self._settled.clear()
        await self._send({"type": "ping", "id": SETTLE_REF})
        await self._settled.wait()

    async def messages(self) -> AsyncIterator[Event]:
        """`chat.history` first, then `chat.message`, `chat.join`, `chat.leave` as they come;
        a refused message arrives as an `error` event with its `code` and `message`."""
        assert self._ws is not None, "use `async with` first"
        async for raw in self._ws:
            message: dict[str, Any] = json.loads(raw)
            kind = message.get("type")
            if kind == "error":
                if message.get("code") not in MESSAGE_ERRORS:
                    raise errors.from_ws_error(message)
                yield Event("error", self.channel, None, message)
            elif kind in ("chat.history", "chat.message", "chat.join", "chat.leave"):
                data = message if kind == "chat.history" else message.get("data") or {}
                yield Event(str(kind), self.channel, message.get("seq"), data, message.get("ts"))
            elif kind == "pong" and message.get("ref") == SETTLE_REF:
                self._settled.set()

    async def _send(self, message: dict[str, Any]) -> None:
        assert self._ws is not None
        await self._ws.send(json.dumps(message))
