"""The bench's observer: one subscribed WebSocket client, in a process of its own, timing each
job event's commit -> receipt as closely as a client can.

No event loop and no client library's reader task: a blocking socket read wakes this process
straight from the kernel, the time is taken as soon as the read returns (before any parsing),
and websockets' Sans-I/O protocol only decodes frames afterwards. It also reads how long the
kernel kept it waiting, runnable, for a CPU (`/proc/self/schedstat`) between blocking and
running again: on a busy box that wake-up wait is part of what any client here sees, and none
of it is the server's.

    python bench/observer.py ws://host:port/ws KEY OUT
"""

from __future__ import annotations

import json
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

SCHEDSTAT = Path("/proc/self/schedstat")


def runqueue_wait() -> float:
    """Seconds this process has spent runnable but waiting for a CPU, since it started."""
    return int(SCHEDSTAT.read_text().split()[1]) / 1e9


class LeanClient:
    def __init__(self, url: str) -> None:
        uri = parse_uri(url)
        self.sock = socket.create_connection((uri.host, uri.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.protocol = ClientProtocol(uri)
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        while self.protocol.state is not State.OPEN:  # the handshake's answer
            self.protocol.receive_data(self.sock.recv(1 << 16))
            if self.protocol.handshake_exc is not None:
                raise self.protocol.handshake_exc

    def send(self, message: dict[str, str]) -> None:
        self.protocol.send_text(json.dumps(message).encode())
        self._flush()

    def frames(self) -> Iterator[tuple[float, float, str]]:
        """(receipt wall clock, run-queue wait before it, text) for each text frame."""
        while True:
            waited = runqueue_wait()
            data = self.sock.recv(1 << 16)
            received = time.time()
            waited = runqueue_wait() - waited
            if not data:
                return
            self.protocol.receive_data(data)
            self._flush()  # pongs to the server's pings
            for event in self.protocol.events_received():
                if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                    yield received, waited, event.data.decode()

    def _flush(self) -> None:
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.sock.sendall(chunk)


def observe(url: str, key: str, out: Path) -> None:
    client = LeanClient(url)
    frames = client.frames()
    client.send({"type": "auth", "key": key})
    next(frames)
    client.send({"type": "subscribe", "channel": "user.me"})
    next(frames)
    with out.open("w", buffering=1) as sink:
        sink.write("ready\n")
        for received, waited, text in frames:
            message = json.loads(text)
            job_id = message.get("data", {}).get("job_id")
            if job_id:
                sink.write(f"{job_id} {received - message['ts']} {waited}\n")


if __name__ == "__main__":
    observe(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
