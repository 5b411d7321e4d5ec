"""Helpers for order tests that run the real api and workers: clients, event taps, waits."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import redis

from jobcast import rediskeys
from jobcast.settings import Settings
from tests.conftest import SharedStack, new_principal
from tests.support.api_client import api_client
from tests.support.processes import wait_for

#: Environment for api and worker processes in order tests: the submit rate limit is not
#: what these tests are about.
ORDER_ENV = {
    "JOBCAST_RATE_SUBMIT_PER_MINUTE": "10000000",
    "JOBCAST_RATE_SUBMIT_BURST": "1000000",
    "JOBCAST_RATE_READ_PER_MINUTE": "10000000",
    "JOBCAST_RATE_READ_BURST": "1000000",
    "JOBCAST_RATE_ORDERS_PER_MINUTE": "10000000",
    "JOBCAST_RATE_ORDERS_BURST": "1000000",
}


@dataclass
class Trader:
    """A principal with its own key and an HTTP client that sends it."""

    principal_id: str
    http: httpx.Client

    def place(self, **order: Any) -> httpx.Response:
        return self.http.post("/orders", json=order)

    def order(self, order_id: str) -> dict[str, Any]:
        response = self.http.get(f"/orders/{order_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def new_trader(client: redis.Redis, settings: Settings, base_url: str, name: str) -> Trader:
    key, principal_id = new_principal(client, settings, name)
    return Trader(principal_id, api_client(base_url, key, timeout=30))


@dataclass
class EventTap:
    """Every event published while it runs, in arrival order, grouped by channel."""

    client: redis.Redis
    events: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> EventTap:
        self.pubsub = self.client.pubsub()
        self.pubsub.psubscribe(rediskeys.pubsub_channel("*"))
        self.pubsub.get_message(timeout=5)  # the subscribe confirmation
        self.stopping = False
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()
        return self

    def _listen(self) -> None:
        # Blocking reads: a short read timeout can expire in the middle of a reply on a busy
        # box, and redis-py then gives up the connection (and the events on it).
        try:
            for message in self.pubsub.listen():
                if message["type"] == "pmessage":
                    with self.lock:
                        self.events.append(json.loads(message["data"]))
        except (redis.ConnectionError, ValueError, OSError):
            if not self.stopping:
                raise

    def catch_up(self, timeout: float = 30) -> None:
        """Wait until everything published before this call has been heard."""
        marker = f"tap.{secrets.token_hex(4)}"
        event = {"channel": marker, "seq": "0-1", "type": "tap.marker", "data": {}}
        self.client.publish(rediskeys.pubsub_channel(marker), json.dumps(event))
        wait_for(
            lambda: bool(self.of(lambda e: e["channel"] == marker)), timeout, "the tap to catch up"
        )

    def stop(self) -> None:
        """Stop listening (again is fine: fixtures stop it whether or not the test did)."""
        if self.stopping:
            return
        self.stopping = True
        self.pubsub.punsubscribe()
        self.thread.join(timeout=5)
        self.pubsub.close()

    def of(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.events if predicate(e)]

    def for_order(self, order_id: str) -> list[dict[str, Any]]:
        return self.of(lambda e: e["type"].startswith("order.") and e["data"]["id"] == order_id)

    def wait_order(self, order_id: str, event_type: str, timeout: float = 20) -> dict[str, Any]:
        def seen() -> bool:
            return any(e["type"] == event_type for e in self.for_order(order_id))

        wait_for(seen, timeout, f"{event_type} for {order_id}")
        return next(e for e in self.for_order(order_id) if e["type"] == event_type)


@contextmanager
def two_traders(stack: SharedStack) -> Iterator[tuple[Trader, Trader, EventTap]]:
    """Alice and Bob, new traders on a module's api and orders worker, and a tap on every event."""
    tap = EventTap(stack.redis).start()
    alice = new_trader(stack.redis, stack.settings, stack.url, "alice")
    bob = new_trader(stack.redis, stack.settings, stack.url, "bob")
    try:
        yield alice, bob, tap
    finally:
        tap.stop()
        alice.http.close()
        bob.http.close()
