"""An authenticated socket's receive loop: each client message answered, handed to its
subscriptions, or refused, until the client leaves.

A frame refused for the client's own mistake costs from a budget; one that is spent ends the
connection (4008 `too_many_refused_frames`). Failures of ours never end it: the client is told
and the loop goes on.
"""

from __future__ import annotations

import logging
import time

from redis.exceptions import RedisError
from starlette.websockets import WebSocket

from jobcast.redis_clients import redis_problem, trouble
from realtime import gate, protocol, refusals
from realtime.connection import ClientConnection
from realtime.frames import receive_text
from realtime.protocol import ClientMessage, ProtocolError, reply
from realtime.refusals import RefusalBudget
from realtime.runtime import Realtime
from realtime.subscriptions import Subscriptions

log = logging.getLogger("jobcast.realtime")


class MessageLoop:
    __slots__ = ("_refusals", "conn", "rt", "subs", "websocket")

    def __init__(
        self, rt: Realtime, websocket: WebSocket, conn: ClientConnection, subs: Subscriptions
    ) -> None:
        self.rt, self.websocket, self.conn, self.subs = rt, websocket, conn, subs
        #: Created at the first refused frame: most connections never send one.
        self._refusals: RefusalBudget | None = None

    async def run(self, room: str | None) -> None:
        """Until the client goes (WebSocketDisconnect, which the session takes)."""
        while True:
            try:
                message = self._parse(await receive_text(self.websocket), room)
            except ProtocolError as exc:
                self._refuse(exc)
                continue
            await self.handle(message)

    def _parse(self, text: str, room: str | None) -> ClientMessage:
        # The seed's chat alias accepted plain text lines as messages to its room.
        if room is not None and not text.lstrip().startswith("{"):
            return ClientMessage("publish", channel=f"chat.{room}", data={"text": text})
        return protocol.parse(text, self.rt.settings.ws_max_frame_bytes)

    async def handle(self, message: ClientMessage) -> None:
        """Answer one message; whatever goes wrong is said to the client, not raised (but
        gate.RefusedError once its refused frames spent their budget)."""
        try:
            await self._answer(message)
        except ProtocolError as exc:
            if exc.ref is None:
                exc.ref = message.id
            self._refuse(exc)
        except (RedisError, OSError) as exc:
            log.warning(
                "Redis unavailable while handling %s: %s",
                message.type,
                redis_problem(exc, where=True),
            )
            self.conn.push(protocol.error("unavailable", trouble(exc), message.id))
        except Exception:
            # A bug must not end the connection silently: log it and tell the client.
            log.exception("failed to handle a %s message", message.type)
            self.conn.push(
                protocol.error("internal_error", "The server failed on that message.", message.id)
            )

    async def _answer(self, message: ClientMessage) -> None:
        if message.type == "ping":
            self.conn.push(reply("pong", message.id))
        elif message.type == "auth":
            raise ProtocolError(
                "already_authenticated", "This connection is authenticated.", message.id
            )
        elif message.type != "pong":
            await self.subs.handle(message)

    def _refuse(self, exc: ProtocolError) -> None:
        """Answer a frame refused for the client's own mistake, or, once it sent too many of
        those, end the connection: gate.RefusedError, closing 4008 `too_many_refused_frames`.
        Failures of ours (Redis unavailable, internal_error) do not count."""
        settings = self.rt.settings
        per_minute, burst = settings.ws_refused_frames_per_minute, settings.ws_refused_frames_burst
        if self._refusals is None:
            self._refusals = RefusalBudget(per_minute, burst, time.monotonic())
        if not self._refusals.spend(time.monotonic()):
            raise gate.RefusedError(
                refusals.TOO_MANY_REFUSED_FRAMES,
                refusals.exhausted_message(per_minute, burst),
                protocol.CLOSE_SLOW_CLIENT,
            )
        self.conn.push(protocol.error(exc.code, exc.message, exc.ref))
