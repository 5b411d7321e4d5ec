"""Reading one client frame off a WebSocket: its text, a refusal of a binary frame, or the
disconnect with the close code the client (or a lost connection) ended it with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from realtime.protocol import ProtocolError

#: The close code logged for a socket that ended with no close frame either way.
CLOSED_ABNORMALLY = 1006
#: A close frame that carried no code (RFC 6455, 7.1.5).
NO_STATUS_RECEIVED = 1005


def close_code(disconnect: Mapping[str, Any]) -> int:
    """The code of a `websocket.disconnect`, 1006 for a connection lost with no close frame.
    uvicorn says 1005 for that too, which RFC 6455 keeps for a close frame without a code; its
    lost connection alone comes with no `reason` (a close frame's always has one, "" or not)."""
    code = int(disconnect.get("code", 1000))
    if code == NO_STATUS_RECEIVED and "reason" not in disconnect:
        return CLOSED_ABNORMALLY
    return code


async def receive_text(websocket: WebSocket) -> str:
    """The next text frame; ProtocolError `bad_frame` for a binary one, refused as a text
    frame that does not parse is (before auth: the socket closes 4001; after: it stays)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(close_code(message), message.get("reason"))
    if message.get("text") is None:
        raise ProtocolError("bad_frame", "Frames must be JSON text, not binary.")
    return str(message["text"])
