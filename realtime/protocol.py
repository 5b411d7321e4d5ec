"""The WebSocket protocol: what clients send, what the server answers, and the close codes.

Every frame is one JSON object with a `type`. Events (anything carrying a `seq`) are forwarded
exactly as committed; everything else is a control message built here. Errors are messages
(`{"type": "error", "code", "message"}`) and the connection stays open, unless the error is one
of the close codes below.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any

from jobcast.seq import is_seq

#: Close codes (4000-4999 are the application's range in RFC 6455).
CLOSE_AUTH_FAILED = 4001  # no valid key or ticket (or none in time); reason key_revoked later
CLOSE_FORBIDDEN = 4003  # an alias path named another principal
CLOSE_POLICY = 1008  # the address itself asks for what is refused (a bad ?room=)
#: The client read too slowly (its send queue was full), or sent too many frames the server
#: refused (reason `too_many_refused_frames`, realtime/refusals.py).
CLOSE_SLOW_CLIENT = 4008
#: Over a limit (cf. 429); the close reason names it: the principal holds its most WebSockets
#: already (`too_many_connections`), the address has too many sockets still authenticating
#: (`too_many_unauthenticated`) or made too many authentication attempts (`rate_limited`).
CLOSE_TOO_MANY = 4029
CLOSE_TOO_MANY_CONNECTIONS = CLOSE_TOO_MANY
CLOSE_INTERNAL_ERROR = 1011  # the server failed: reconnect with `since`
CLOSE_SHUTDOWN = 1012  # the api process is restarting: reconnect with `since`
CLOSE_TRY_AGAIN = 1013  # Redis is unavailable right now: reconnect after a pause
CLOSE_TOO_BIG = 1009  # a frame over JOBCAST_WS_MAX_FRAME_BYTES (sent by uvicorn itself)

CLIENT_TYPES = frozenset({"auth", "subscribe", "unsubscribe", "publish", "ping", "pong"})
#: Query names a client may put a key under by mistake; the server never reads a key there.
KEY_QUERY_NAMES = frozenset({"key", "api_key", "token", "access_token"})


class ProtocolError(Exception):
    """A client message the server refuses; answered with an error message, not a close."""

    def __init__(self, code: str, message: str, ref: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.ref = code, message, ref


@dataclass(frozen=True)
class ClientMessage:
    type: str
    id: Any = None  # echoed back as `ref` so a client can match answers to requests
    key: str | None = None
    channel: str | None = None
    since: str | None = None
    data: dict[str, Any] | None = None


def parse(text: str, max_bytes: int) -> ClientMessage:
    """A client frame as a message, or ProtocolError saying what is wrong with it."""
    if len(text) > max_bytes:
        raise ProtocolError("too_large", f"Messages are limited to {max_bytes} bytes.")
    try:
        raw = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        # A syntax error: where the parser stopped says more than the number limits below.
        raise ProtocolError(
            "bad_json",
            f"The message is not JSON: {exc.msg} at character {exc.pos}. "
            "Each message must be a JSON object.",
        ) from None
    except (ValueError, RecursionError):
        # ValueError: not JSON, NaN or Infinity (which a browser's JSON.parse could not read
        # back in `ref`), or an integer past Python's 4,300-digit limit.
        raise ProtocolError(
            "bad_json",
            "Each message must be a JSON object: finite numbers of at most 4,300 digits, "
            "nested at most a few hundred levels.",
        ) from None
    if not isinstance(raw, dict):
        raise ProtocolError("bad_json", "Each message must be a JSON object.")
    # A list or object `type` is unhashable: the set lookup alone raised (a 1011 for anyone).
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_TYPES:
        raise ProtocolError(
            "unknown_type", f"`type` must be one of {sorted(CLIENT_TYPES)}.", raw.get("id")
        )
    return _message(raw)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999
        raise ValueError(text)
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def _message(raw: dict[str, Any]) -> ClientMessage:
    ref = raw.get("id")
    for name in ("key", "channel", "since"):
        if raw.get(name) is not None and not isinstance(raw[name], str):
            raise ProtocolError("bad_field", f"`{name}` must be a string.", ref)
    since = raw.get("since")
    if since is not None and not is_seq(since):
        raise ProtocolError(
            "bad_field", "`since` must be the seq of an event, like 1732760000123-0.", ref
        )
    data = raw.get("data")
    if data is not None and not isinstance(data, dict):
        raise ProtocolError("bad_field", "`data` must be an object.", ref)
    return ClientMessage(
        type=raw["type"],
        id=ref,
        key=raw.get("key"),
        channel=raw.get("channel"),
        since=since,
        data=data,
    )


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), default=str)


def reply(type_: str, ref: Any = None, **fields: Any) -> str:
    """A control message; `ref` is the id of the client message it answers, when there is one."""
    message: dict[str, Any] = {"type": type_, **fields}
    if ref is not None:
        message["ref"] = ref
    return encode(message)


def error(code: str, message: str, ref: Any = None, **fields: Any) -> str:
    return reply("error", ref, code=code, message=message, **fields)


def auth_required(wrong: str, key_in_url: bool) -> str:
    """The `unauthenticated` message: what was wrong with the first message, then what to do."""
    if key_in_url:
        return wrong + (
            'Keys never go in URLs: send {"type": "auth", "key": "<API key>"} first, or open '
            "the socket with a single-use ticket from POST /ws/ticket (?ticket=wst_…)."
        )
    return wrong + 'Send {"type": "auth", "key": "<API key>"} first.'


def heartbeat() -> str:
    return reply("heartbeat", ts=round(time.time(), 3))
