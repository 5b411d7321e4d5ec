"""What the event stream does with each close code, against a WebSocket peer that closes on cue
(the real api sends an error frame first, which the stream raises on; a close met while the
client was still sending comes without it)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from websockets.asyncio.server import ServerConnection, serve

from jobcast.client import StreamOptions, errors
from jobcast.client.stream import events


@asynccontextmanager
async def closing_peer(code: int, reason: str) -> AsyncIterator[str]:
    """A WebSocket server at the returned base URL that accepts the key and closes as told."""

    async def answer(ws: ServerConnection) -> None:
        await ws.recv()
        principal = {"id": "p_0123456789abcdef", "name": "t"}
        await ws.send(json.dumps({"type": "auth.ok", "principal": principal}))
        await ws.close(code, reason)

    async with serve(answer, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"


async def first_of(base_url: str, reconnects: list[int]) -> None:
    options = StreamOptions(max_failures=1, on_reconnect=lambda n, _pause: reconnects.append(n))
    async for _event in events(base_url, "jc_key", ("user.me",), None, options):
        pass


def test_a_close_for_too_many_refused_frames_is_raised_not_reconnected() -> None:
    # Connecting again sends the same frames, refused again: the stream said nothing and
    # reconnected for ever.
    reconnects: list[int] = []

    async def run() -> None:
        async with closing_peer(4008, "too_many_refused_frames") as url:
            await first_of(url, reconnects)

    with pytest.raises(errors.StreamError) as closed:
        asyncio.run(run())
    assert closed.value.code == "too_many_refused_frames"
    assert "refused" in closed.value.message
    assert reconnects == []


def test_a_close_for_reading_too_slowly_is_reconnected() -> None:
    reconnects: list[int] = []

    async def run() -> None:
        async with closing_peer(4008, "") as url:  # the server gives no reason for it
            await first_of(url, reconnects)

    with pytest.raises(errors.UnavailableError):  # max_failures=1: one reconnect, then give up
        asyncio.run(run())
    assert reconnects == [1]
