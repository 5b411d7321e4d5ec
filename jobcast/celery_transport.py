"""kombu's Redis transports, with one redis-py client per channel instead of one per command.

kombu's Redis channel makes a new redis-py client for every publish, ack, unacked-index write
and event batch (`Channel._create_client`), and making one costs about 80 us: redis-py fills a
table of reply callbacks each time. That is four or five clients per file job in a worker's main
process and two per task the api sends. The client is only a handle on the channel's connection
pool (each command still takes a connection from it), so one made per pool serves them all.
`celeryconfig` names these transports; everything else is kombu's own.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis


class _OneClientPerPool:
    """Mixed into a kombu Redis channel: its synchronous client is made once per pool."""

    _kept_client: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:  # the channel keeps the one it makes for its blocking reads itself
            return super()._create_client(asynchronous=True)  # type: ignore[misc]
        pool = self.pool  # type: ignore[attr-defined]
        client = self._kept_client
        # A channel that lost its connection makes a new pool: its client goes with the old one.
        if client is None or client.connection_pool is not pool:
            client = self._kept_client = super()._create_client()  # type: ignore[misc]
        return client


class Channel(_OneClientPerPool, kombu_redis.Channel):
    pass


class SentinelChannel(_OneClientPerPool, kombu_redis.SentinelChannel):
    pass


class Transport(kombu_redis.Transport):
    Channel = Channel


class SentinelTransport(kombu_redis.SentinelTransport):
    Channel = SentinelChannel


def transport_for(sentinels: bool) -> str:
    """The `broker_transport` setting: the class kombu loads for the broker's URL scheme."""
    name = "SentinelTransport" if sentinels else "Transport"
    return f"{__name__}:{name}"
