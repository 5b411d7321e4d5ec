"""Exactly once across reconnects: which messages to hand on, and where to resume each channel.

Pure bookkeeping, no I/O. Per subscribed channel it keeps the last `seq` handed on (at first,
the seq a `subscribed` without `since` names: where the server started the channel); after a
reconnect the channel is subscribed again `since` that seq, and anything at or below it that the
server sends again is dropped. A `resync` (events were lost on the server's side) is handed on
and clears the floor, so the fresh start the server sends next is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jobcast.seq import SEQ_FORM, Seq, is_seq, seq_key

__all__ = ["SEQ_FORM", "Event", "ResumeState", "Seq", "is_seq", "seq_key"]

#: Messages that are not events but carry a channel's state as of a seq.
STARTS = frozenset({"snapshot", "chat.history"})
#: Control messages a consumer never needs to see.
CONTROL = frozenset(
    {"subscribed", "unsubscribed", "heartbeat", "pong", "published", "auth.ok", "error"}
)


@dataclass(frozen=True)
class Event:
    """One message of a channel: a committed event (`job.progress`, `order.filled`...), a
    start (`snapshot`, `chat.history`) or a `resync`. `seq` is None only for a resync."""

    type: str
    channel: str
    seq: str | None
    data: dict[str, Any]
    ts: float | None = None

    @property
    def is_event(self) -> bool:
        return self.type not in STARTS and self.type != "resync"


@dataclass
class ResumeState:
    channels: tuple[str, ...]
    since: str | None = None
    _last: dict[str, str | None] = field(default_factory=dict)
    _names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._last = {channel: self.since for channel in self.channels}

    def bind(self, principal_id: str) -> None:
        """Events of `user.me` carry the principal's own channel name: map it back."""
        self._names = {c: c for c in self.channels}
        if "user.me" in self.channels:
            self._names[f"user.{principal_id}"] = "user.me"

    def since_for(self, channel: str) -> str | None:
        return self._last.get(channel)

    def accept(self, message: dict[str, Any]) -> Event | None:
        """The message as an Event to hand on, or None (control, or already handed on)."""
        kind = message.get("type")
        if kind == "subscribed":
            self._start_from(message)
        if not isinstance(kind, str) or kind in CONTROL:
            return None
        channel = self._names.get(str(message.get("channel")), str(message.get("channel")))
        if kind == "resync":
            self._last[channel] = None
            return Event("resync", channel, None, {"reason": message.get("reason")})
        seq = message.get("seq")
        if not isinstance(seq, str):
            return None
        last = self._last.get(channel)
        if last is not None and _repeated(kind, seq, last):
            return None
        self._last[channel] = seq
        return _event(kind, channel, seq, message)

    def _start_from(self, subscribed: dict[str, Any]) -> None:
        """A subscription from "now" names its seq: a drop before any event resumes there."""
        channel = self._names.get(str(subscribed.get("channel")), str(subscribed.get("channel")))
        seq = subscribed.get("seq")
        if isinstance(seq, str) and self._last.get(channel) is None:
            self._last[channel] = seq

    def restart(self, channel: str) -> None:
        """Start the channel afresh on the next connection (the server lost its history)."""
        self._last[channel] = None


def _repeated(kind: str, seq: str, last: str) -> bool:
    """Whether a message at `seq` was already handed on, `last` being the latest that was. A
    start is the state as of its seq, the seq `subscribed` just named, so it is new there."""
    if kind in STARTS:
        return seq_key(seq) < seq_key(last)
    return seq_key(seq) <= seq_key(last)


def _event(kind: str, channel: str, seq: str, message: dict[str, Any]) -> Event:
    if kind == "chat.history":
        data = {"messages": message.get("messages"), "present": message.get("present")}
    else:
        data = message.get("data") or {}
    return Event(kind, channel, seq, data, message.get("ts"))
