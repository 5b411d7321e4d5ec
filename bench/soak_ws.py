"""The soak's WebSocket clients: each follows its principal's `user.me`, a market and its latest
jobs, drops its connection now and then (and whenever the api dies) and resumes every channel
with `since` = the last seq it saw, recording every event it got."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

#: Job channels one client follows at most (the newest of its principal's jobs). Each session
#: subscribes to all of them again: 2 + 5 channels every 3-8 s stays within the per-principal
#: subscribe budget (ws_subscribes_per_minute, 120), so sessions are not refused as rate_limited.
JOB_CHANNELS = 5
#: Seconds between the client's own drops.
DROP_EVERY = (3.0, 8.0)


@dataclass
class Seen:
    """What one client received on one channel (by the channel's resolved name)."""

    seqs: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    resyncs: int = 0


class WsClient:
    """One principal's WebSocket, in a thread of its own."""

    def __init__(
        self,
        name: str,
        base: str,
        key: str,
        principal_id: str,
        market: str,
        jobs: list[str] | None,
        seed: int,
    ) -> None:
        self.name = name
        self.url = base.replace("http://", "ws://", 1) + "/ws"
        self.key, self.user = key, f"user.{principal_id}"
        #: Requested channel -> the seq to resume from (None: subscribe fresh).
        self.market = f"market.{market}"
        self.since: dict[str, str | None] = {"user.me": "0-0", self.market: "0-0"}
        self.jobs = jobs  # the load appends its principal's new job ids here
        self.seen: dict[str, Seen] = {}
        self.sessions = 0
        #: Error codes the server answered with (each ends the session; it resumes).
        self.errors: Counter[str] = Counter()
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> WsClient:
        self.thread.start()
        return self

    def join(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                with connect(self.url, open_timeout=10, compression=None, proxy=None) as ws:
                    self._session(ws)
            except (OSError, WebSocketException, TimeoutError) as exc:
                # the api is down or dropped us: resume on a new connection
                self.errors[type(exc).__name__ + ":" + str(exc)[:40]] += 1
            self.stop.wait(0.2)

    def _session(self, ws: ClientConnection) -> None:
        ws.send(json.dumps({"type": "auth", "key": self.key}))
        answer = json.loads(ws.recv(timeout=10))
        if answer.get("type") != "auth.ok":
            return
        self.sessions += 1
        for channel in list(self.since):
            self._subscribe(ws, channel)
        drop_at = time.monotonic() + self.rng.uniform(*DROP_EVERY)
        while not self.stop.is_set() and time.monotonic() < drop_at:
            self._follow_new_jobs(ws)
            try:
                raw = ws.recv(timeout=0.2)
            except TimeoutError:
                continue
            if not self._handle(json.loads(raw)):
                return

    def _subscribe(self, ws: ClientConnection, channel: str) -> None:
        message: dict[str, Any] = {"type": "subscribe", "channel": channel, "id": channel}
        if self.since[channel] is not None:
            message["since"] = self.since[channel]
        ws.send(json.dumps(message))

    def _follow_new_jobs(self, ws: ClientConnection) -> None:
        newest = [f"job.{job_id}" for job_id in (self.jobs or [])[-JOB_CHANNELS:]]
        # Older job channels are forgotten: the next session resubscribes only the newest
        # (kept, every session resubscribed every job ever followed and ran out of budget).
        for channel in [c for c in self.since if c.startswith("job.") and c not in newest]:
            del self.since[channel]
        for channel in newest:
            if channel not in self.since:
                self.since[channel] = None
                self._subscribe(ws, channel)

    def _handle(self, message: dict[str, Any]) -> bool:
        """Record one message; False when the session should be dropped and resumed."""
        kind = message.get("type")
        if kind == "resync":
            self._seen(str(message.get("channel"))).resyncs += 1
        elif kind == "error":
            self.errors[str(message.get("code"))] += 1
            return False  # e.g. a subscribe refused while Redis was down: resume afresh
        elif "seq" in message and "channel" in message and kind not in ("snapshot", "subscribed"):
            self._record(message)
        elif kind == "snapshot" and message.get("seq"):
            requested = str(message.get("channel"))
            if self.since.get(requested) is None:
                self.since[requested] = str(message["seq"])
        return True

    def _record(self, event: dict[str, Any]) -> None:
        channel = str(event["channel"])
        seen = self._seen(channel)
        seen.seqs.append(str(event["seq"]))
        seen.events.append(event)
        requested = "user.me" if channel == self.user else channel
        self.since[requested] = str(event["seq"])

    def _seen(self, channel: str) -> Seen:
        if channel == "user.me":
            channel = self.user
        return self.seen.setdefault(channel, Seen())

    def last_seen(self) -> dict[str, str | None]:
        """The last seq received on each channel followed from the start (by stream name)."""
        return {self.user: self.since["user.me"], self.market: self.since[self.market]}

    def figures(self) -> Counter[str]:
        return Counter(
            events=sum(len(s.seqs) for s in self.seen.values()),
            resyncs=sum(s.resyncs for s in self.seen.values()),
            sessions=self.sessions,
        )
