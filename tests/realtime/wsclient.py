"""A small synchronous WebSocket client for the tests: connect, authenticate, read JSON."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from websockets.sync.client import ClientConnection, connect

Message = dict[str, Any]


def ws_url(base_url: str, path: str = "/ws") -> str:
    return base_url.replace("http://", "ws://", 1) + path


def open_ws(base_url: str, path: str = "/ws", **kwargs: Any) -> ClientConnection:
    kwargs.setdefault("compression", None)
    return connect(ws_url(base_url, path), proxy=None, open_timeout=10, legacy=True, **kwargs)


def send(ws: ClientConnection, **message: Any) -> None:
    ws.send(json.dumps(message))


def recv(ws: ClientConnection, timeout: float = 5.0) -> Message:
    message: Message = json.loads(ws.recv(timeout=timeout))
    return message


def recv_until(
    ws: ClientConnection,
    done: Callable[[Message], bool],
    timeout: float = 10.0,
    skip_heartbeats: bool = True,
) -> list[Message]:
    """Messages up to and including the first for which `done` is true."""
    deadline = time.monotonic() + timeout
    seen: list[Message] = []
    while True:
        message = recv(ws, max(0.01, deadline - time.monotonic()))
        if skip_heartbeats and message.get("type") == "heartbeat":
            continue
        seen.append(message)
        if done(message):
            return seen


def authed(base_url: str, key: str, path: str = "/ws", **kwargs: Any) -> ClientConnection:
    """A connection that sent its key as the first message and got `auth.ok`."""
    ws = open_ws(base_url, path, **kwargs)
    send(ws, type="auth", key=key)
    answer = recv(ws)
    assert answer["type"] == "auth.ok", answer
    return ws


def subscribe(ws: ClientConnection, channel: str, since: str | None = None) -> Message:
    """Subscribe and return the `subscribed` acknowledgement."""
    message: Message = {"type": "subscribe", "channel": channel, "id": channel}
    if since is not None:
        message["since"] = since
    ws.send(json.dumps(message))
    answer = recv_until(ws, lambda m: m.get("ref") == channel)[-1]
    assert answer["type"] == "subscribed", answer
    return answer


def is_event(message: Message) -> bool:
    return "seq" in message and message.get("type") not in (
        "snapshot",
        "chat.history",
        "subscribed",
    )
