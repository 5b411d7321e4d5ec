"""One WebSocket from accept to close: its authentication (realtime/authentication.py), its
place in its principal's connection count, its message loop (realtime/message_loop.py), the
close and the cleanup.

The session reads client messages in the connection's own ASGI task; the only other task is
the sender, which exists while frames are queued (heartbeats and presence refreshes come from
one process-wide ticker). It ends when the client leaves, the socket fails, or the client falls
behind (closed with 4008); it always leaves its channels and rooms, and its place in the
principal's connection count (realtime/connections.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Sequence
from typing import Any

from redis.exceptions import RedisError
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from jobcast.keys import Principal
from jobcast.redis_clients import redis_problem, trouble
from jobcast.schemas.text import escape_controls
from realtime import connections, gate, metrics, protocol
from realtime.authentication import Authentication
from realtime.channels import seed_room
from realtime.connection import ClientConnection
from realtime.frames import CLOSED_ABNORMALLY
from realtime.message_loop import MessageLoop
from realtime.protocol import ClientMessage, ProtocolError, reply
from realtime.runtime import Realtime
from realtime.subscriptions import Subscriptions

log = logging.getLogger("jobcast.realtime")

#: Seconds given to queued frames (an error, say) to reach the client before a close.
CLOSE_DRAIN_TIMEOUT = 2.0
#: Seconds a close frame may wait behind a client that stopped reading.
CLOSE_TIMEOUT = 10.0
#: The end of a session's close line when the api stopped before the session ended by itself.
CUT_SHORT = " (cut short: the api's shutdown grace ran out before the session ended)"


class Session:
    __slots__ = (
        "_closer",
        "_ended",
        "_started",
        "conn",
        "id",
        "principal",
        "rt",
        "subs",
        "websocket",
    )

    def __init__(self, rt: Realtime, websocket: WebSocket) -> None:
        self.rt, self.websocket = rt, websocket
        self.id = secrets.token_hex(8)
        self._started = time.monotonic()
        #: The close code and reason, from whichever side closed first.
        self._ended: tuple[int, str | None] | None = None
        settings = rt.settings
        self.conn = ClientConnection(
            websocket, settings.ws_send_queue, settings.ws_send_queue_bytes
        )
        self.principal: Principal | None = None
        self.subs: Subscriptions | None = None
        self._closer: asyncio.Task[None] | None = None

    async def run(
        self,
        ticket: str | None,
        channels: tuple[str, ...] = (),
        rooms: Sequence[str] | None = None,
        user_id: str | None = None,
    ) -> None:
        """Serve the (accepted) socket until it ends; `channels` are subscribed on auth. `rooms`
        (the seed's chat alias only) are its `?room=` values: it joins the one they name."""
        self.rt.sessions.add(self)
        metrics.CONNECTIONS.inc()
        self.conn.on_overflow = self._on_overflow
        cut_short = False
        try:
            await self._serve_and_leave(ticket, channels, rooms, user_id)
        except asyncio.CancelledError:
            # uvicorn cancels the sessions still running when its graceful shutdown is over (a
            # Redis too slow to answer their cleanup, say) and logs what one raises as
            # "Exception in ASGI application", a traceback each: thousands after a reconnect
            # storm. The process is ending, and this task is the connection's own: nothing
            # waits on the cancellation. Its close (1012) was sent by the shutdown; what it holds
            # in Redis and could not let go of (its place in the connection count, a chat
            # presence) expires by itself, as when Redis is away.
            cut_short = True
            self._ended = self._ended or (protocol.CLOSE_SHUTDOWN, None)
        finally:
            metrics.CONNECTIONS.dec()
            self.rt.sessions.discard(self)
            self._log_end(cut_short)

    async def _serve_and_leave(
        self,
        ticket: str | None,
        channels: tuple[str, ...],
        rooms: Sequence[str] | None,
        user_id: str | None,
    ) -> None:
        try:
            outcome = await self._serve_safely(ticket, channels, rooms, user_id)
            if outcome is not None:
                await self._close(*outcome)
        finally:
            # Also after a failure nothing above foresaw: what the session holds in Redis goes.
            self.conn.stop()
            self._leave_budget()
            await self._cleanup()
            await self._count_out()

    def _log_end(self, cut_short: bool) -> None:
        """One line per socket (uvicorn logs only its accept): whose, why it ended, how long; a
        warning when the api stopped before the session could end by itself."""
        code, reason = self._ended or (CLOSED_ABNORMALLY, None)
        principal = self.principal.id if self.principal is not None else "-"
        duration = time.monotonic() - self._started
        log.log(
            logging.WARNING if cut_short else logging.INFO,
            "WebSocket closed: code=%d reason=%s principal=%s duration=%.1fs session=%s%s",
            code,
            escape_controls(reason or "-"),  # a client's close reason is its own text
            principal,
            duration,
            self.id,
            CUT_SHORT if cut_short else "",
            extra={"close_code": code, "principal_id": principal, "session": self.id},
        )

    async def _serve_safely(
        self,
        ticket: str | None,
        channels: tuple[str, ...],
        rooms: Sequence[str] | None,
        user_id: str | None,
    ) -> tuple[int, str | None] | None:
        """`_serve`, with every failure turned into a protocol error and a close code (and
        reason); None when the client closed (the server already answered its close frame)."""
        try:
            return await self._serve(ticket, channels, rooms, user_id), None
        except gate.RefusedError as refused:
            self.conn.push(protocol.error(refused.code, refused.message))
            return refused.close_code, refused.code
        except WebSocketDisconnect as gone:
            # Closing again would only raise inside wait_for, and that exception, its traceback
            # and the frames form a cycle per connection (~20 objects) that only the cycle
            # collector frees: with thousands of clients leaving, that adds to its pauses.
            self._ended = self._ended or (gone.code, gone.reason or None)
            return None
        except (RedisError, OSError) as exc:
            log.warning("Redis unavailable for a WebSocket: %s", redis_problem(exc, where=True))
            self.conn.push(protocol.error("unavailable", trouble(exc)))
            return protocol.CLOSE_TRY_AGAIN, None
        except Exception:
            log.exception("WebSocket session failed")
            self.conn.push(protocol.error("internal_error", "The server failed; reconnect."))
            return protocol.CLOSE_INTERNAL_ERROR, None

    async def _serve(
        self,
        ticket: str | None,
        channels: tuple[str, ...],
        rooms: Sequence[str] | None,
        user_id: str | None,
    ) -> int:
        self.principal, auth_ref = await self._authenticate(ticket)
        if self.principal is None:
            return protocol.CLOSE_AUTH_FAILED
        if user_id is not None and user_id != self.principal.id:
            self.conn.push(protocol.error("forbidden", "The path names another principal."))
            return protocol.CLOSE_FORBIDDEN
        room = None
        if rooms is not None:
            room = self._chat_room(rooms)
            if room is None:  # it joined nothing and stayed open, sending into no room
                return protocol.CLOSE_POLICY
            channels = (f"chat.{room}",)
        await self._count_in(self.principal)  # or RefusedError: 4029 too_many_connections
        self.conn.share(self.rt.send_budgets.join(self.principal.id))
        self.subs = Subscriptions(self.rt, self.conn, self.principal, self.id)
        self.conn.push(self._welcome(self.principal, auth_ref))
        loop = MessageLoop(self.rt, self.websocket, self.conn, self.subs)
        for channel in channels:
            await loop.handle(ClientMessage("subscribe", channel=channel))
        await loop.run(room)
        return 1000  # not reached: the loop ends only by the client leaving

    def _chat_room(self, rooms: Sequence[str]) -> str | None:
        """The seed alias's room, or None once the client was told why `?room=` names none."""
        try:
            return seed_room(rooms)
        except ProtocolError as refused:
            self.conn.push(protocol.error(refused.code, refused.message))
            return None

    async def _authenticate(self, ticket: str | None) -> tuple[Principal | None, Any]:
        """The principal (None: refused, the client told why) and the `id` of its auth message,
        for `auth.ok` to carry back as `ref`."""
        auth = Authentication(self.rt, self.websocket, self.conn, self._closing)
        return await auth.run(ticket, self._evict), auth.ref

    def _welcome(self, principal: Principal, ref: Any) -> str:
        # The limits a client would otherwise copy from our settings and get wrong once an
        # operator changes them: sent on every connect, so a client is current after a restart.
        settings = self.rt.settings
        limits = {
            "chat_max_message_bytes": settings.chat_max_message_bytes,
            # How often an idle connection hears from us: a client's "silent too long" follows
            # it, so an operator's longer interval does not have idle clients reconnecting.
            "heartbeat_interval_s": settings.ws_heartbeat_interval,
        }
        return reply(
            "auth.ok",
            ref,
            principal={"id": principal.id, "name": principal.name},
            limits=limits,
        )

    def revoke(self) -> None:
        """Its key was revoked: say so and close with 4001, reason `key_revoked`."""
        if self._closer is None:
            self.conn.push(protocol.error("key_revoked", "The API key was revoked."))
            self._closer = asyncio.create_task(self._close_revoked())

    async def _close_revoked(self) -> None:
        await self._cleanup()  # nothing more reaches a revoked key, not even queued events
        await self._close(protocol.CLOSE_AUTH_FAILED, "key_revoked")

    def _on_overflow(self) -> None:
        # The reader may sit in receive() for long; closing from here ends it: uvicorn answers
        # the close with a disconnect message once the frame is out.
        self._closer = asyncio.create_task(self._close_slow())

    async def _close_slow(self) -> None:
        await self._cleanup()  # no more deliveries to a client that is being dropped
        await self._close(protocol.CLOSE_SLOW_CLIENT)

    async def _count_in(self, principal: Principal) -> None:
        """Take a place in the principal's connection count, or refuse the connection.

        A Redis error here propagates: `_serve_safely` answers `unavailable` and closes with
        1013, as for any Redis failure at auth. Letting the socket in uncounted instead would
        open the door to a reconnect loop exactly while Redis struggles, and the key or ticket
        check just before needs Redis anyway, so failing closed adds no new way to fail.
        """
        limit = self.rt.settings.ws_max_connections_per_principal
        entry, ttl = (principal.id, self.id), self.rt.settings.ws_connection_ttl
        if await connections.register(self.rt.redis, entry, limit, time.time(), ttl):
            return
        # As the address limits: the error, then 4029 with the code as the close reason.
        raise gate.RefusedError("too_many_connections", connections.refusal(limit))

    def _leave_budget(self) -> None:
        if self.principal is not None:
            self.rt.send_budgets.leave(self.principal.id, self.conn.budget)

    async def _count_out(self) -> None:
        # Also after a refusal or a lost reply to the registration: removing an id that is not
        # there is harmless. Redis away: the entry expires after the TTL instead.
        if self.principal is not None:
            with contextlib.suppress(RedisError, OSError):
                await connections.unregister(self.rt.redis, (self.principal.id, self.id))

    def _closing(self) -> bool:
        return self._closer is not None

    def _evict(self, refused: gate.RefusedError) -> None:
        """Newer sockets of its address took its place before it sent a key: say why, then
        close; the read waiting for the first message ends with the close."""
        if self._closer is None:
            self.conn.push(protocol.error(refused.code, refused.message))
            self._closer = asyncio.create_task(self._close(refused.close_code, refused.code))

    async def _close(self, code: int, reason: str | None = None) -> None:
        self._ended = self._ended or (code, reason)
        if self.conn.accepting:  # not a client too slow to read: let the last error reach it
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.conn.drained(), CLOSE_DRAIN_TIMEOUT)
        self.conn.stop()
        if self.websocket.application_state == WebSocketState.CONNECTED:
            # A client that stopped reading holds the close frame back; do not wait forever.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.websocket.close(code, reason), CLOSE_TIMEOUT)

    async def _cleanup(self) -> None:
        if self.subs is not None:
            with contextlib.suppress(RedisError, OSError):
                await self.subs.close_all()
