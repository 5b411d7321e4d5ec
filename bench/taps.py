"""A principal's channel read live on a thread of the bench, as a client would be told."""

from __future__ import annotations

import threading

import redis

from jobcast.events import user_channel
from jobcast.rediskeys import pubsub_channel


class UserTap:
    """Calls `on_message` with each event published on one principal's channel, from the
    moment it is made (the subscription is confirmed first) until `close`."""

    def __init__(self, client: redis.Redis, principal_id: str) -> None:
        self.pubsub = client.pubsub()
        self.pubsub.subscribe(pubsub_channel(user_channel(principal_id)))
        self.pubsub.get_message(timeout=5)  # the subscribe confirmation: nothing is missed after
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def on_message(self, data: str) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        # Blocking reads: a short read timeout can expire in the middle of a reply on a busy box.
        for message in self.pubsub.listen():
            if message["type"] == "message":
                self.on_message(message["data"])

    def close(self) -> None:
        self.pubsub.unsubscribe()
        self.thread.join(timeout=10)
        self.pubsub.close()
