"""The Lua scripts, kept as `.lua` files in `jobcast/lua/` and run by name.

A script file may include another with a line `--#include <file>.lua`, replaced by that file's
text when the script is loaded: the event publish (`publish_event.lua`) and the tallies
(`apply_tallies.lua`) are written once and shared by every script that needs them.

Each script is registered once per process (a redis-py `Script`, one for sync clients and one
for asyncio ones) and sent as `EVALSHA`; redis-py loads it again on `NOSCRIPT` (a restarted or
failed-over Redis has an empty script cache). The SHA depends on the text only, so one `Script`
serves every client and pipeline it is called with. Redis 6.2 (the embedded one) has no
Functions, hence scripts.

On a pipeline (the api's MULTIs: one script or two each; a worker's script with a read) a
script goes as `EVAL` with its text instead: a pipeline holding a `Script` first asks Redis
whether it has it (`SCRIPT EXISTS`, a round trip of its own before every such MULTI), and an
`EVALSHA` that met `NOSCRIPT` inside a MULTI would fail alone while the rest applied. Redis
hashes and caches an EVAL's text itself; its 2-3 KB cost less than the round trip (POST /jobs:
one round trip fewer).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from functools import cache
from importlib import resources
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.commands.core import AsyncScript, Script
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

from jobcast.deadlines import SharedDeadline

_INCLUDE = re.compile(r"^--#include (\S+\.lua)$", re.MULTILINE)

Client = redis.Redis | redis.client.Pipeline
AsyncClient = aioredis.Redis | aioredis.client.Pipeline


@cache
def source(name: str) -> str:
    """The text of script `name` (`jobcast/lua/<name>.lua`), its includes expanded."""
    text = (resources.files("jobcast") / "lua" / f"{name}.lua").read_text(encoding="utf-8")
    return _INCLUDE.sub(lambda m: source(m.group(1).removesuffix(".lua")), text)


_sync: dict[str, Script] = {}
_async: dict[str, AsyncScript] = {}


def run(client: Client, name: str, keys: list[str], args: list[Any]) -> Any:
    """Run script `name` on a sync client (or queue it on a pipeline, as `EVAL`)."""
    if isinstance(client, redis.client.Pipeline):
        return client.eval(source(name), len(keys), *keys, *args)
    script = _sync.get(name)
    if script is None:
        # The first client only supplies the text encoding for the SHA; each call passes its own.
        script = _sync[name] = Script(client, source(name))
    return script(keys=keys, args=args, client=client)


async def run_async(
    client: AsyncClient | ScriptLane, name: str, keys: list[str], args: list[Any]
) -> Any:
    """Run script `name` on an asyncio client or lane (or queue it on a pipeline, as `EVAL`)."""
    if isinstance(client, ScriptLane):
        return await client.run(name, keys, args)
    if isinstance(client, aioredis.client.Pipeline):
        return await client.eval(source(name), len(keys), *keys, *args)
    script = _async.get(name)
    if script is None:
        script = _async[name] = AsyncScript(client, source(name))
    return await script(keys=keys, args=args, client=client)


class ScriptLane:
    """Runs scripts on a few connections of its own, for the api's busiest call (the spend and
    read of every `GET /jobs/{id}`): redis-py's `execute_command` and its blocking pool spend
    more CPU around the round trip than the round trip itself (a condition and a timeout to
    take a connection, a check that it has nothing unread, per-command observability hooks, a
    task per send to bound it in time). A connection is made as the client's pool makes its
    own (address, password, health checks, retry policy), and each call is bounded by the
    pool's socket timeout as a whole (one timer for all calls, `jobcast.deadlines`). redis-py
    disconnects a connection on any error (Redis away, a timeout, a cancelled request), and it
    reconnects on its next use. Each use first checks, as the pool does at checkout, that
    Redis has not closed the connection meanwhile (a restart takes less than any idle limit
    would allow): a local look, no round trip.

    At most `size` connections: a call finding all of them busy goes through the client as
    usual (whose pool waits at its own cap), so the lane adds at most `size` connections."""

    def __init__(self, client: aioredis.Redis, size: int) -> None:
        self._client, self._size = client, size
        self._idle: list[AbstractConnection] = []
        self._made = 0
        timeout: float | None = client.connection_pool.connection_kwargs.get("socket_timeout")
        # One timer for every call, not one per call (`jobcast.deadlines`).
        self._deadline = SharedDeadline(timeout)

    async def run(self, name: str, keys: list[str], args: list[str]) -> Any:
        """As `run_async(client, name, keys, args)`, for string arguments."""
        conn = self._take()
        if conn is None:
            return await run_async(self._client, name, keys, args)
        bounded = self._deadline.enter()
        try:
            await _drop_if_closed(conn)
            return await conn.retry.call_with_retry(
                lambda: _evalsha(conn, name, keys, args), lambda _error: conn.disconnect()
            )
        except asyncio.CancelledError:
            if self._deadline.expired(bounded):  # as redis-py's own socket timeout reports it
                raise RedisTimeoutError(f"Timeout running script {name}") from None
            raise
        finally:
            self._deadline.leave(bounded)
            self._idle.append(conn)

    def _take(self) -> AbstractConnection | None:
        """An idle connection, a new one, or None at the cap."""
        if self._idle:
            return self._idle.pop()
        if self._made < self._size:
            self._made += 1
            return self._connection()
        return None

    def _connection(self) -> AbstractConnection:
        pool = self._client.connection_pool
        # No socket timeout of its own: `run` bounds the whole call instead.
        made: AbstractConnection = pool.connection_class(
            **{**pool.connection_kwargs, "socket_timeout": None}
        )
        return made

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.disconnect()


async def _drop_if_closed(conn: AbstractConnection) -> None:
    """Disconnect `conn` if Redis closed it or it holds unread bytes (what the pool's checkout
    check looks for), so that `_evalsha` connects afresh instead of sending on it."""
    with contextlib.suppress(RedisConnectionError):  # raised once it has disconnected `conn`
        if conn.is_connected and await conn.can_read():
            await conn.disconnect()


@cache
def _sha(name: str) -> str:
    # The name Redis caches a script under (as redis-py computes it), not a safeguard.
    return hashlib.sha1(source(name).encode("utf-8"), usedforsecurity=False).hexdigest()


async def _evalsha(conn: AbstractConnection, name: str, keys: list[str], args: list[str]) -> Any:
    """One script call on `conn`; a Redis without the script in its cache (restarted, failed
    over) gets its text, and caches it."""
    if not conn.is_connected:
        # Through `connect`, which a Sentinel-managed connection overrides to ask for the
        # primary: a send on a closed connection would connect to its configured default
        # address (localhost:6379) instead.
        await conn.connect()  # type: ignore[no-untyped-call]
    await conn.send_packed_command(_packed(["EVALSHA", _sha(name), str(len(keys)), *keys, *args]))
    try:
        return await conn.read_response()
    except NoScriptError:
        await conn.send_packed_command(
            _packed(["EVAL", source(name), str(len(keys)), *keys, *args])
        )
        return await conn.read_response()


def _packed(words: list[str]) -> bytes:
    """A command in Redis' protocol (RESP), as `pack_command` makes it for strings (UTF-8),
    without its per-argument type dispatch (a third of the lane's own CPU per call)."""
    out = [b"*%d\r\n" % len(words)]
    for word in words:
        data = word.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class ScriptKeys:
    """A script's KEYS with each key once; a payload names a key by its 1-based index (`ref`).

    A batch touches few distinct streams, symbols and owners but names them for every item:
    sent once each, they cost redis-py's packing and Redis' argument parsing once, not per item.
    """

    def __init__(self, *fixed: str) -> None:
        self.keys: list[str] = []
        self._index: dict[str, int] = {}
        for key in fixed:
            self.ref(key)

    def ref(self, key: str) -> int:
        index = self._index.get(key)
        if index is None:
            self.keys.append(key)
            index = self._index[key] = len(self.keys)
        return index
