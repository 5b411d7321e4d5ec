"""Single-use WebSocket tickets: a browser cannot set headers on a WebSocket, and a key must
never travel in a URL (it would land in proxy and server logs). A ticket is short-lived, works
once, and Redis keeps only its hash. It is bound to the key it was issued with: once that key
is revoked, its tickets are refused too."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict

import redis.asyncio as aioredis

from jobcast.keys import Principal, revoked_among
from jobcast.rediskeys import ws_ticket_key


async def issue(redis: aioredis.Redis, principal: Principal, ttl: int) -> str:
    ticket = f"wst_{secrets.token_urlsafe(24)}"
    await redis.set(ws_ticket_key(ticket), json.dumps(asdict(principal)), ex=ttl)
    return ticket


async def redeem(redis: aioredis.Redis, ticket: str) -> Principal | None:
    """The ticket's principal, once; None for an unknown, used or expired ticket."""
    if not ticket.startswith("wst_") or len(ticket) > 100:
        return None
    # GETDEL (Redis 6.2+): reading and deleting in one step is what makes a ticket single-use.
    raw = await redis.getdel(ws_ticket_key(ticket))
    if not raw:
        return None
    principal = Principal(**json.loads(raw))
    if not principal.key_id or await revoked_among(redis, [principal.key_id]):
        return None
    return principal
