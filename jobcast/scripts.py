"""The Lua scripts, kept as `.lua` files in `jobcast/lua/` and run by name.

A script file may include another with a line `--#include <file>.lua`, replaced by that file's
text when the script is loaded: the event publish (`publish_event.lua`) and the tallies
(`apply_tallies.lua`) are written once and shared by every script that needs them.

Each script is registered once per process (a redis-py `Script`, one for sync clients and one
for asyncio ones) and sent as `EVALSHA`; redis-py loads it again on `NOSCRIPT` (a restarted or
failed-over Redis has an empty script cache). The SHA depends on the text only, so one `Script`
serves every client and pipeline it is called with. Redis 6.2 (the embedded one) has no
Functions, hence scripts.

On an asyncio pipeline (the api's MULTIs: one script or two each) a script goes as `EVAL` with
its text instead: a pipeline holding a `Script` first asks Redis whether it has it (`SCRIPT
EXISTS`, a round trip of its own before every such MULTI), and an `EVALSHA` that met `NOSCRIPT`
inside a MULTI would fail alone while the rest applied. Redis hashes and caches an EVAL's text
itself; its 2-3 KB cost less than the round trip (POST /jobs: one round trip fewer).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.commands.core import AsyncScript, Script

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
    """Run script `name` on a sync client (or queue it on a pipeline)."""
    script = _sync.get(name)
    if script is None:
        # The first client only supplies the text encoding for the SHA; each call passes its own.
        script = _sync[name] = Script(client, source(name))
    return script(keys=keys, args=args, client=client)


async def run_async(client: AsyncClient, name: str, keys: list[str], args: list[Any]) -> Any:
    """Run script `name` on an asyncio client (or queue it on a pipeline, as `EVAL`)."""
    if isinstance(client, aioredis.client.Pipeline):
        return await client.eval(source(name), len(keys), *keys, *args)
    script = _async.get(name)
    if script is None:
        script = _async[name] = AsyncScript(client, source(name))
    return await script(keys=keys, args=args, client=client)


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
