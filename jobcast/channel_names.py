"""What may follow a channel's kind (`chat.{room}`, `market.{symbol}`, `job.{id}`): one rule for
the server, which refuses any other name, and the CLI, which checks a room's before connecting."""

from __future__ import annotations

import re

#: Longest name after the kind.
MAX_NAME_LENGTH = 128
_NAME = re.compile(rf"[A-Za-z0-9_.:-]{{1,{MAX_NAME_LENGTH}}}")

#: The rule in words, for the messages that refuse a name.
NAME_RULE = f"1 to {MAX_NAME_LENGTH} ASCII letters, digits or _ . : - (no spaces)"


def is_channel_name(name: str) -> bool:
    # Whole-string: `$` also matched before a final line break, so "lobby\n" was a name.
    return _NAME.fullmatch(name) is not None
