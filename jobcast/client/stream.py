"""The event stream: one WebSocket that authenticates, subscribes, and on any drop reconnects
with backoff and resumes each channel from its last seq (`resume.py`), so the consumer sees
every event once, in order, across drops and api restarts."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from jobcast.client import errors
from jobcast.client.resume import Event, ResumeState
from jobcast.seq import RESTARTED_BY_SERVER

#: Close codes after which reconnecting cannot help: a bad key, a path naming someone else,
#: and the principal's connection limit (retrying at once is refused again).
FINAL_CLOSES = {
    4001: errors.AuthenticationError,
    4003: errors.PermissionDeniedError,
    4029: errors.StreamError,
}
#: 4008 closes a client that read too slowly (no reason: reconnecting and resuming cures it)
#: or, with this reason, one that kept sending frames the server refused: connecting again
#: would send them again, so it is final too.
TOO_MANY_REFUSED_FRAMES = "too_many_refused_frames"
#: WebSocket error codes answered to a message that a reconnect may cure.
TRANSIENT_CODES = frozenset({"unavailable", "internal_error"})


@dataclass(frozen=True)
class StreamOptions:
    """How `events()` keeps its WebSocket, and what it tells you of it.

    idle_timeout: seconds without any frame (the server sends a heartbeat every 15 s) before
        reconnecting.
    max_backoff: the longest pause, in seconds, between reconnect attempts.
    max_failures: failed connection attempts in a row before giving up (UnavailableError
        `unreachable`); None: never give up.
    on_subscribed: `on_subscribed(channel)`, called with a channel's name each time the
        server confirms its subscription (on every connection). State read after this call
        misses no change: any later one is an event.
    on_reconnect: `on_reconnect(failures, pause)`, called each time the connection is lost
        or could not be made and is being retried: `failures` (int) the failed attempts in a
        row, `pause` (float) the seconds before the next one.
    """

    idle_timeout: float = 45.0
    max_backoff: float = 10.0
    max_failures: int | None = None
    on_subscribed: Callable[[str], None] | None = None
    on_reconnect: Callable[[int, float], None] | None = None


#: Seconds a connection must live to count as a success (resetting the backoff).
STABLE_AFTER = 5.0
#: Seconds our close waits for the server's answer before dropping the socket. With more
#: unread frames queued than websockets keeps (a replay the consumer is behind on, then
#: Ctrl-C), it stops reading the socket, so the answer is never read: its own default, 10 s,
#: was how long Ctrl-C took to end `jobcast watch`. The close frame is sent either way.
CLOSE_TIMEOUT = 1.0


class _Reconnect(Exception):
    """This connection is done; resume on a new one."""


def ws_url(base_url: str) -> str:
    return base_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/ws"


async def events(
    base_url: str,
    api_key: str,
    channels: tuple[str, ...],
    since: str | None = None,
    options: StreamOptions | None = None,
) -> AsyncGenerator[Event, None]:
    """Every event of `channels` from `since` (None: from now, or the snapshot of a job)."""
    options = options or StreamOptions()
    state = ResumeState(channels, since)
    failures = 0
    while True:
        opened = time.monotonic()
        try:
            # aclosing: leaving early (the consumer stops) closes the socket now, not at GC.
            connection = _connection(base_url, api_key, state, options)
            async with aclosing(connection):
                async for event in connection:
                    yield event
        except ConnectionClosed as exc:
            _raise_if_final(exc)
        except InvalidStatus as exc:
            _raise_if_refused(exc)
        except (_Reconnect, OSError, InvalidHandshake, TimeoutError):
            pass
        # A connection that lived a while was a success: count failures in a row only, so a
        # server that drops every connection at once still meets a growing backoff.
        failures = 1 if time.monotonic() - opened > STABLE_AFTER else failures + 1
        if options.max_failures is not None and failures > options.max_failures:
            raise errors.UnavailableError("unreachable", f"No WebSocket to {base_url}.")
        pause = _backoff(failures, options.max_backoff)
        if options.on_reconnect is not None:
            options.on_reconnect(failures, pause)
        await asyncio.sleep(pause)


async def _connection(
    base_url: str, api_key: str, state: ResumeState, options: StreamOptions
) -> AsyncGenerator[Event, None]:
    async with connect(
        ws_url(base_url), compression=None, proxy=None, close_timeout=CLOSE_TIMEOUT
    ) as ws:
        try:
            await _authenticate(ws, api_key, state)
            await _subscribe(ws, state)
            async with aclosing(_receive(ws, state, options)) as received:
                async for event in received:
                    yield event
        finally:
            # Left through an exception (the consumer done, a reconnect), `connect` closes with
            # 1011, which the api logs as its own failure: the client leaving is a normal close.
            await ws.close()


def _raise_if_refused(exc: InvalidStatus) -> None:
    status = exc.response.status_code
    if status in (401, 403, 404):
        said = f"The WebSocket handshake got {status}."
        if status == 404:  # the api answers 404 to a path it serves no WebSocket under
            said += " Nothing serves WebSockets there: check the api's address (its base URL)."
        raise errors.PermissionDeniedError("handshake_refused", said, status=status) from exc


def _backoff(failures: int, cap: float) -> float:
    """The first reconnect is at once (a single drop is the common case), then 0.25 s doubling."""
    if failures <= 1:
        return 0.0
    return min(cap, 0.25 * float(2 ** (failures - 2))) * random.uniform(0.5, 1.0)  # noqa: S311


async def _authenticate(ws: ClientConnection, api_key: str, state: ResumeState) -> None:
    await ws.send(json.dumps({"type": "auth", "key": api_key}))
    answer = await _next(ws, within=30.0)
    if answer.get("type") == "error":
        _on_error(answer)  # transient: reconnect; a bad key or the connection limit: raise
    if answer.get("type") != "auth.ok":
        raise _Reconnect()
    state.bind(str(answer["principal"]["id"]))


async def _subscribe(ws: ClientConnection, state: ResumeState) -> None:
    # Sent together; the answers come back in order, interleaved with the first events.
    for channel in state.channels:
        message: dict[str, Any] = {"type": "subscribe", "channel": channel, "id": channel}
        since = state.since_for(channel)
        if since is not None:
            message["since"] = since
        await ws.send(json.dumps(message))


async def _receive(
    ws: ClientConnection, state: ResumeState, options: StreamOptions
) -> AsyncGenerator[Event, None]:
    while True:
        try:
            message = await _next(ws, options.idle_timeout)
        except TimeoutError:
            raise _Reconnect() from None  # silent for too long: a dead connection
        if message.get("type") == "error":
            _on_error(message)
            continue
        if message.get("type") == "subscribed" and options.on_subscribed is not None:
            options.on_subscribed(str(message.get("channel")))
        event = state.accept(message)
        if event is None:
            continue
        yield event
        if event.type == "resync" and event.data.get("reason") not in RESTARTED_BY_SERVER:
            # The server lost the channel's events: subscribe to it anew on a fresh connection.
            state.restart(event.channel)
            raise _Reconnect()


def _on_error(message: dict[str, Any]) -> None:
    if message.get("code") in TRANSIENT_CODES:
        raise _Reconnect()
    if message.get("code") == "already_subscribed":
        return  # harmless
    raise errors.from_ws_error(message)


async def _next(ws: ClientConnection, within: float) -> dict[str, Any]:
    # `asyncio.timeout`, not `wait_for`: on Python 3.11 a cancel that came as the message
    # arrived was dropped by `wait_for` (it returned the message), and a heartbeat, no event,
    # let the stream read on: a Ctrl-C of `jobcast watch` or `submit --wait` was lost, rarely.
    async with asyncio.timeout(within):
        raw = await ws.recv()
    message = json.loads(raw)
    if not isinstance(message, dict):
        raise _Reconnect()
    return message


def _raise_if_final(exc: ConnectionClosed) -> None:
    if exc.rcvd is None:
        return
    code, reason = exc.rcvd.code, exc.rcvd.reason
    if code in FINAL_CLOSES:
        raise FINAL_CLOSES[code](f"closed_{code}", reason or f"The server closed with {code}.")
    if code == 4008 and reason == TOO_MANY_REFUSED_FRAMES:
        # The error frame saying so came before the close, but a close met while sending
        # (subscribes) arrives without it having been read.
        raise errors.StreamError(
            TOO_MANY_REFUSED_FRAMES,
            "The server closed the WebSocket: it refused too many of this client's frames "
            "(subscribes to channels it does not serve, repeated ones); fix them, then reconnect.",
        ) from exc
