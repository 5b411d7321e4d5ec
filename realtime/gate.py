"""What one client address may do before it authenticates over WebSocket.

An address is often many clients (a NAT, an office, a proxy when JOBCAST_TRUSTED_PROXIES is
unset), so neither limit may keep out a client that sends a valid key at once:

- The sockets of an address that have not authenticated yet are counted per api process (they
  live and die with it), at most `ws_max_unauthenticated_per_address`. At that limit a new
  socket is still let in and the address's oldest one still waiting for its first message is
  closed (4029 `too_many_unauthenticated`): idle sockets cannot hold the places for the whole
  auth timeout, and memory stays bounded. Only when every place is held by a socket whose key
  or ticket is being checked (milliseconds) is the new one closed instead.
- Failed attempts (a wrong key or ticket) spend from a per-address budget in Redis, as a wrong
  REST key spends the anonymous one; a valid key is let in whatever the others of its address
  got wrong, and over the budget a wrong one is closed at once (4029 `rate_limited`), so a
  guesser pays a new connection for each guess.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from starlette.websockets import WebSocket

from jobcast.ratelimit import Budget, client_address, spend
from jobcast.settings import Settings
from realtime.protocol import CLOSE_TOO_MANY
from realtime.runtime import Realtime


class RefusedError(Exception):
    """The connection is over a limit: error `code`, then close with that reason (4029 unless
    another `close_code` is given)."""

    def __init__(self, code: str, message: str, close_code: int = CLOSE_TOO_MANY) -> None:
        super().__init__(message)
        self.code, self.message, self.close_code = code, message, close_code


class Waiting:
    """One unauthenticated socket in its address's line: `evict` closes it with the refusal
    given, until `checking` (its key or ticket is being checked: too late to take its place)."""

    __slots__ = ("checking", "evict")

    def __init__(self, evict: Callable[[RefusedError], None]) -> None:
        self.evict = evict
        self.checking = False


def address_of(websocket: WebSocket, settings: Settings) -> str:
    peer = websocket.client.host if websocket.client else None
    forwarded = websocket.headers.get("x-forwarded-for")
    return client_address(peer, forwarded, settings.trusted_proxies)


@contextlib.contextmanager
def unauthenticated(
    rt: Realtime, address: str, evict: Callable[[RefusedError], None]
) -> Iterator[Waiting]:
    """Hold a place in the address's line while the socket authenticates; at the limit the
    oldest socket still waiting for its first message gives its place up (`evict`), or, with
    none, RefusedError."""
    line = rt.unauthenticated.setdefault(address, [])
    limit = rt.settings.ws_max_unauthenticated_per_address
    if len(line) >= limit:
        _evict_oldest_idle(line, limit)
    me = Waiting(evict)
    line.append(me)
    try:
        yield me
    finally:
        if me in line:  # an evicted socket left the line already
            line.remove(me)
        if not line and rt.unauthenticated.get(address) is line:
            del rt.unauthenticated[address]


def _evict_oldest_idle(line: list[Waiting], limit: int) -> None:
    oldest = next((waiting for waiting in line if not waiting.checking), None)
    if oldest is None:
        raise RefusedError(
            "too_many_unauthenticated",
            f"Your address has {limit} WebSockets whose keys are being checked; retry.",
        )
    line.remove(oldest)
    oldest.evict(
        RefusedError(
            "too_many_unauthenticated",
            f"Your address opened more than {limit} WebSockets that had not authenticated; "
            "this one waited longest. Send the key as the first message.",
        )
    )


def _failures(settings: Settings) -> Budget:
    return Budget("wsauth", settings.ws_auth_attempts_per_minute, settings.ws_auth_attempts_burst)


async def spend_failure(rt: Realtime, address: str) -> None:
    """A failed attempt (a wrong key or ticket) from `address`, or, over the budget,
    RefusedError `rate_limited` (the answer instead of `invalid_key`)."""
    decision = await spend(rt.redis, _failures(rt.settings), address)
    if not decision.allowed:
        raise RefusedError(
            "rate_limited",
            "Too many failed authentication attempts from your address; "
            f"retry after {decision.retry_after_s} s.",
        )
