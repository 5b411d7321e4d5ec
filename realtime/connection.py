"""One client's outgoing side: a bounded send queue and the task that drains it.

Producers (the hub's fan-out, replays, control answers) never wait on the socket: they append to
the queue without blocking. When the queue is full — by count, or by the text it holds, since
one job snapshot can be megabytes — the client is reading too slowly; it is marked as
overflowed, gets nothing more, and the session closes it with CLOSE_SLOW_CLIENT — so a slow
reader costs at most one full queue of memory and never delays anyone else. The text also
counts against a budget its principal's connections share in this process
(realtime/send_budget.py), so many sockets of one tenant cannot add up to the api's memory.

The sender task exists only while there is something to send: an idle connection holds no task
of its own, which keeps thousands of idle subscribers cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable

from starlette.websockets import WebSocket

from realtime import metrics
from realtime.send_budget import SendBudget

#: (frame text, commit time of a live event | CONTROL | REPLAYED)
Outgoing = tuple[str, float]
#: Markers in place of a commit time: a control message, or an event sent from the stream
#: (counted as delivered, but its age says nothing about push delay).
CONTROL = 0.0
REPLAYED = -1.0


class ClientConnection:
    __slots__ = (
        "_pending",
        "_queued_chars",
        "_sender",
        "_stopped",
        "budget",
        "on_overflow",
        "overflowed",
        "queue_chars",
        "queue_size",
        "websocket",
    )

    def __init__(self, websocket: WebSocket, queue_size: int, queue_chars: int) -> None:
        self.websocket = websocket
        self.queue_size = queue_size
        #: Most characters of frame text held at once, the frame being written included.
        #: Characters, not UTF-8 bytes: len() is free where encoding every frame is not, and
        #: the frames that can be large (snapshots, history) are ASCII JSON.
        self.queue_chars = queue_chars
        self._queued_chars = 0
        #: Shared with the principal's other connections once authenticated (`share`); until
        #: then its own, as large as the queue.
        self.budget = SendBudget(queue_chars)
        # Created on demand and dropped when drained: an empty deque costs ~0.8 KB, times every
        # idle connection.
        self._pending: deque[Outgoing] | None = None
        self._sender: asyncio.Task[None] | None = None
        #: True once the client fell behind (or the socket failed): nothing more is queued.
        self.overflowed = False
        self._stopped = False
        #: Called once on overflow, so the session can close the socket with 4008.
        self.on_overflow: Callable[[], object] | None = None

    def push(self, text: str, ts: float = CONTROL) -> None:
        """Queue a frame; never blocks. A full queue, or a full budget, marks the client as
        too slow."""
        if self.overflowed or self._stopped:
            return
        size = len(text)
        queued = self._queued_chars + size
        budget = self.budget
        held = budget.held + size
        pending = self._pending
        if (
            queued > self.queue_chars
            or held > budget.limit
            or (pending is not None and len(pending) >= self.queue_size)
        ):
            self.overflow()
            return
        if pending is None:
            pending = self._pending = deque()
        self._queued_chars, budget.held = queued, held
        pending.append((text, ts))
        if self._sender is None:
            self._sender = asyncio.create_task(self._drain(pending))

    def hold(self, chars: int) -> bool:
        """Count text kept for this client outside the queue (a feed's buffer while it opens)
        as queued; False when it does not fit (the client is then too slow) or nothing more is
        sent. Give it back with `release` before pushing it."""
        if self.overflowed or self._stopped:
            return False
        queued, held = self._queued_chars + chars, self.budget.held + chars
        if queued > self.queue_chars or held > self.budget.limit:
            self.overflow()
            return False
        self._queued_chars, self.budget.held = queued, held
        return True

    def release(self, chars: int) -> None:
        # Once stopped, `stop` gave everything back already.
        if not self._stopped:
            self._queued_chars -= chars
            self.budget.held -= chars

    def share(self, budget: SendBudget) -> None:
        """Count against `budget` from now on, with what is already queued."""
        budget.held += self._queued_chars
        self.budget.held -= self._queued_chars
        self.budget = budget
        if budget.held > budget.limit:
            self.overflow()

    def overflow(self) -> None:
        if self.overflowed:
            return
        metrics.SLOW_CLIENT_DISCONNECTS.inc()
        self.overflowed = True
        self.stop()
        if self.on_overflow is not None:
            self.on_overflow()

    def stop(self) -> None:
        """Send nothing more: drop what is queued and the send in progress."""
        self._stopped = True
        self._pending = None
        self._give_back()
        if self._sender is not None:
            self._sender.cancel()

    def _give_back(self) -> None:
        self.budget.held -= self._queued_chars
        self._queued_chars = 0

    @property
    def accepting(self) -> bool:
        return not (self.overflowed or self._stopped)

    async def drained(self) -> None:
        """Wait until everything queued was written (or the sender gave up)."""
        if self._sender is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._sender)

    async def _drain(self, pending: deque[Outgoing]) -> None:
        send = self.websocket.send_text
        try:
            while pending:
                text, ts = pending.popleft()
                await send(text)
                # Released once written: a frame blocked in send() still holds its memory.
                size = len(text)
                self._queued_chars -= size
                self.budget.held -= size
                if ts != CONTROL:
                    metrics.EVENTS_DELIVERED.inc()
                if ts > 0:
                    metrics.DELIVERY_DELAY.observe(max(0.0, time.time() - ts))
        except Exception:
            # The socket is gone or closing; the session's reader sees the disconnect. What it
            # held goes back to the principal now, not when the session gets round to it.
            self._stopped = True
            self._pending = None
            self._give_back()
        finally:
            self._sender = None
            if self._pending is pending:
                self._pending = None
