"""An event's `seq`: the Redis stream id its commit got, `<ms>-<n>`, as the WebSocket protocol
carries it and takes it back as `since`. One rule for the server and the client."""

from __future__ import annotations

import re

Seq = tuple[int, int]
#: How a seq is written, for messages that ask for one.
SEQ_FORM = "<ms>-<n>"
_SEQ = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")
#: Each part is an unsigned 64-bit number: Redis refuses a larger one.
_SEQ_PART_MAX = 2**64 - 1


def seq_key(seq: str) -> Seq:
    """A stream id as a sortable pair: "1732760000123-4" -> (1732760000123, 4)."""
    ms, _, n = seq.partition("-")
    return int(ms), int(n or 0)


def is_seq(text: str) -> bool:
    """Whether `text` is a seq the server takes as `since`."""
    return bool(_SEQ.fullmatch(text)) and max(seq_key(text)) <= _SEQ_PART_MAX


#: Why a `resync` was sent for a `since` the channel's stream does not hold: older than every
#: event it keeps (trimmed, expired, or a Redis that lost its data), past its newest event
#: (ahead of what was committed, or a Redis that lost its latest writes), or in between (never
#: one of its events: a cursor from another channel). After each the server sends the channel's
#: start itself (a job's snapshot, a room's history), then live events.
SINCE_TOO_OLD, SINCE_AHEAD, SINCE_UNKNOWN = "since_too_old", "since_ahead", "since_unknown"
RESTARTED_BY_SERVER = frozenset({SINCE_TOO_OLD, SINCE_AHEAD, SINCE_UNKNOWN})
#: Why a `resync` was sent when Redis stayed away too long to catch up: subscribe anew.
REDIS_UNAVAILABLE = "redis_unavailable"
