"""The shape of an API key, `jc_<key id>_<secret>`: apart from the key store (jobcast/keys.py)
so the client, which must not import Redis, shows a key the same way the server reads it."""

from __future__ import annotations

import re

KEY_PREFIX = "jc"
#: Key ids as `jobcast.keys.new_key` makes them.
KEY_ID = re.compile(r"[0-9a-f]{12}")
_PUBLIC_PART = re.compile(rf"{KEY_PREFIX}_{KEY_ID.pattern}_")


def masked(key: str) -> str:
    """The key's public part, its prefix and id (`jc_0123456789ab_…`), for messages and reprs:
    enough to tell which key it is (`jobcast keys ls` lists ids), nothing to authenticate with.
    Anything not shaped like a key is hidden whole: it may still be a secret."""
    public = _PUBLIC_PART.match(key)
    if public is None or public.end() == len(key):
        return f"… (not a {KEY_PREFIX}_<id>_<secret> key)"
    return public.group() + "…"
