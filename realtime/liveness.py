"""When to ping a quiet connection, and when to give it up for dead.

A half-open TCP connection (a NAT, load balancer or firewall forgot it; the peer vanished
without a reset) never fails a read: it just stays quiet. Only a request that goes unanswered
tells it apart from a connection that has nothing to say. Anything received counts as an
answer, so a busy connection is never pinged at all. Pure: the caller passes the clock.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Liveness:
    #: Seconds of quiet before a ping is sent.
    interval: float
    #: Seconds a ping may go unanswered before the connection counts as dead.
    timeout: float
    #: When anything last arrived (or the connection was made).
    heard_at: float
    #: When the unanswered ping went out; None while nothing is outstanding.
    pinged_at: float | None = None

    def heard(self, now: float) -> None:
        self.heard_at, self.pinged_at = now, None

    def ping_due(self, now: float) -> bool:
        return self.pinged_at is None and now - self.heard_at >= self.interval

    def pinged(self, now: float) -> None:
        self.pinged_at = now

    def dead(self, now: float) -> bool:
        return self.pinged_at is not None and now - self.pinged_at >= self.timeout

    def wait(self, now: float) -> float:
        """Seconds to keep reading before the next ping or verdict is due."""
        if self.pinged_at is None:
            due = self.heard_at + self.interval
        else:
            due = self.pinged_at + self.timeout
        return max(0.0, due - now)
