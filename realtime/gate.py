"""What one client address may do before it authenticates over WebSocket.

Two limits, both enforced by closing at once (4029, the reason names which), never by
answering late: an idle unauthenticated socket costs the server memory and a task, and a late
answer still answers. The open unauthenticated sockets of an address are counted per api process
(they live and die with it); authentication attempts spend from a per-address budget in Redis
before the key or ticket is even looked at, so parallel guesses cannot all be answered; a
successful attempt is given back, so the budget counts failures (and attempts in flight).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from starlette.websockets import WebSocket

from jobcast.ratelimit import Budget, client_address, refund, spend
from jobcast.settings import Settings
from realtime.protocol import CLOSE_TOO_MANY
from realtime.runtime import Realtime


class RefusedError(Exception):
    """The connection is over a limit: error `code`, then close with that reason (4029 unless
    another `close_code` is given)."""

    def __init__(self, code: str, message: str, close_code: int = CLOSE_TOO_MANY) -> None:
        super().__init__(message)
        self.code, self.message, self.close_code = code, message, close_code


def address_of(websocket: WebSocket, settings: Settings) -> str:
    peer = websocket.client.host if websocket.client else None
    forwarded = websocket.headers.get("x-forwarded-for")
    return client_address(peer, forwarded, settings.trusted_proxies)


@contextlib.contextmanager
def unauthenticated(rt: Realtime, address: str) -> Iterator[None]:
    """Count the socket against its address while it authenticates, or refuse it."""
    limit = rt.settings.ws_max_unauthenticated_per_address
    counts = rt.unauthenticated
    if counts.get(address, 0) >= limit:
        raise RefusedError(
            "too_many_unauthenticated",
            f"Your address already has {limit} WebSockets that have not authenticated yet.",
        )
    counts[address] = counts.get(address, 0) + 1
    try:
        yield
    finally:
        counts[address] -= 1
        if not counts[address]:
            del counts[address]


def _attempts(settings: Settings) -> Budget:
    return Budget("wsauth", settings.ws_auth_attempts_per_minute, settings.ws_auth_attempts_burst)


async def spend_attempt(rt: Realtime, address: str) -> None:
    """One authentication attempt (key or ticket) from `address`, or RefusedError."""
    decision = await spend(rt.redis, _attempts(rt.settings), address)
    if not decision.allowed:
        raise RefusedError(
            "rate_limited",
            "Too many authentication attempts from your address; "
            f"retry after {decision.retry_after_s} s.",
        )


async def refund_attempt(rt: Realtime, address: str) -> None:
    """A successful attempt gives its place back: the budget counts failures (and attempts in
    flight), so the clients of one busy address (a NAT, a proxy) can reconnect all day."""
    await refund(rt.redis, _attempts(rt.settings), address)
