"""From an accepted WebSocket to its principal: a ticket redeemed, or a key in the first message.

Each way in that fails says why on the socket (the session then closes it 4001); a wrong key or
ticket also spends from its address's budget of failures (realtime/gate.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket

from jobcast.keys import Principal, authenticate
from jobcast.ratelimit import anonymous_budget, spend
from realtime import gate, protocol, tickets
from realtime.connection import ClientConnection
from realtime.frames import receive_text
from realtime.protocol import ClientMessage, ProtocolError
from realtime.runtime import Realtime


class Authentication:
    """One socket's authentication; `closing` says whether the session is closing it already
    (evicted from its address's line, say) by the time its first message came."""

    __slots__ = ("address", "closing", "conn", "ref", "rt", "websocket")

    def __init__(
        self,
        rt: Realtime,
        websocket: WebSocket,
        conn: ClientConnection,
        closing: Callable[[], bool],
    ) -> None:
        self.rt, self.websocket, self.conn, self.closing = rt, websocket, conn, closing
        self.address = gate.address_of(websocket, rt.settings)
        #: The `id` of the auth message, for `auth.ok` to carry back as `ref`.
        self.ref: Any = None

    async def run(
        self, ticket: str | None, evict: Callable[[gate.RefusedError], None]
    ) -> Principal | None:
        """The principal, or None once the socket was told why not (RefusedError over a
        limit of its address)."""
        with gate.unauthenticated(self.rt, self.address, evict) as waiting:
            if ticket is not None:
                waiting.checking = True
                return await self._redeem(ticket)
            if self._key_in_url():
                return None
            message = await self._first_message()
            waiting.checking = True
            if message is None or self.closing():  # refused, or evicted as it came
                return None
            self.ref = message.id
            return await self._check_key(message)

    async def _redeem(self, ticket: str) -> Principal | None:
        principal = await tickets.redeem(self.rt.redis, ticket)
        if principal is None:
            await gate.spend_failure(self.rt, self.address)
            self.conn.push(
                protocol.error("invalid_ticket", "The ticket is unknown, used or expired.")
            )
        return principal

    def _key_in_url(self) -> bool:
        """Whether the address carries a key, refused before any message: waiting out the auth
        timeout only delayed the answer."""
        if protocol.KEY_QUERY_NAMES.isdisjoint(self.websocket.query_params):
            return False
        self.conn.push(protocol.error("unauthenticated", protocol.auth_required("", True)))
        return True

    async def _first_message(self) -> ClientMessage | None:
        """The first message if it is an `auth` with a key; otherwise None, after saying what
        was wrong with it. WebSocketDisconnect if the client left first: the session logs its
        close, not a refusal nobody heard."""
        wrong = ""  # what was wrong with the first message, when it could not be read
        ref = None  # its `id`, when it had one
        settings = self.rt.settings
        try:
            text = await asyncio.wait_for(receive_text(self.websocket), settings.ws_auth_timeout)
            message = protocol.parse(text, settings.ws_max_frame_bytes)
        except ProtocolError as exc:
            message, wrong = None, f"The first message was refused ({exc.code}): {exc.message} "
            ref = exc.ref
        except TimeoutError:
            message = None
            wrong = f"No message came within {settings.ws_auth_timeout:g} s. "
        if message is not None:
            ref = message.id
        if message is not None and message.type == "auth" and not message.key:
            wrong = "`key` is required: "
        if message is None or message.type != "auth" or not message.key:
            explained = protocol.auth_required(wrong, key_in_url=False)
            self.conn.push(protocol.error("unauthenticated", explained, ref))
            return None
        return message

    async def _check_key(self, message: ClientMessage) -> Principal | None:
        assert message.key is not None
        settings = self.rt.settings
        secret = settings.secret("key_secret")
        principal = await authenticate(self.rt.redis, secret, message.key, self.rt.key_cache)
        if principal is None:
            # A wrong key also costs the address's REST budget for requests without a valid
            # key: guessing spends from one pot whichever door it uses.
            await spend(self.rt.redis, anonymous_budget(settings), self.address)
            await gate.spend_failure(self.rt, self.address)
            self.conn.push(
                protocol.error("invalid_key", "The API key is unknown or revoked.", message.id)
            )
        return principal
