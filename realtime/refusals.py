"""How many refused frames one WebSocket may send before it is closed.

Each frame the server answers with an error (bad_json, unknown_type, bad_field, a refused
subscribe...) cost it a parse, maybe a Redis call, and an answer, and did the client no good.
Answered forever, one tenant's sockets sending them flat out slowed every other tenant, so a
connection over this budget is closed (4008, reason `too_many_refused_frames`) instead.

The budget is a token bucket kept in the session: it lives and dies with the connection, and
costs no Redis round trip on the path it exists to keep cheap.
"""

from __future__ import annotations

#: The close reason, and the error code sent just before the close.
TOO_MANY_REFUSED_FRAMES = "too_many_refused_frames"


class RefusalBudget:
    """`burst` refused frames at once, refilled at `per_minute`."""

    __slots__ = ("_at", "_tokens", "burst", "per_second")

    def __init__(self, per_minute: int, burst: int, now: float) -> None:
        self.burst, self.per_second = burst, per_minute / 60
        self._tokens, self._at = float(burst), now

    def spend(self, now: float) -> bool:
        """Take one refusal from the budget; False when it is spent (the socket should close)."""
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_second)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


def exhausted_message(per_minute: int, burst: int) -> str:
    return (
        f"Too many refused frames: over {burst} at once or {per_minute} a minute. "
        "Fix what the errors before this one said, then reconnect."
    )
