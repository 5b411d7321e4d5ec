"""Lua scripts live as `.lua` files in `jobcast/lua/`, read once when their module loads."""

from __future__ import annotations

from importlib import resources


def lua_source(name: str) -> str:
    return (resources.files("jobcast") / "lua" / name).read_text(encoding="utf-8")
