"""The hub holds one Redis subscription per channel, however many local listeners it has."""

from __future__ import annotations

import asyncio

import redis

from jobcast.events import Event, publish
from jobcast.redis_clients import async_client
from jobcast.rediskeys import pubsub_channel
from jobcast.settings import Settings
from realtime.hub import ChannelHub
from realtime.protocol import seq_key


class Recorder:
    def __init__(self) -> None:
        self.seqs: list[tuple[int, int]] = []
        self.delivered = asyncio.Event()

    def deliver(self, raw: str, seq: tuple[int, int], ts: float) -> None:
        self.seqs.append(seq)
        self.delivered.set()

    def resubscribed(self) -> None:
        pass


def subscribers(client: redis.Redis, channel: str) -> int:
    counts: list[tuple[str, int]] = client.pubsub_numsub(pubsub_channel(channel))  # type: ignore[assignment]
    return int(counts[0][1])


def test_channel_is_subscribed_on_first_listener_and_dropped_after_last(
    settings: Settings, redis_client: redis.Redis
) -> None:
    async def scenario() -> None:
        hub = ChannelHub(async_client(settings))
        await hub.start()
        one, two = Recorder(), Recorder()
        await hub.subscribe("market.H", one)
        await hub.subscribe("market.H", two)
        assert subscribers(redis_client, "market.H") == 1
        seq = publish(redis_client, Event("market.H", "market.trade", {}))
        async with asyncio.timeout(5):
            await one.delivered.wait()
            await two.delivered.wait()
        assert one.seqs == two.seqs == [seq_key(seq)]
        await hub.unsubscribe("market.H", one)
        assert subscribers(redis_client, "market.H") == 1
        await hub.unsubscribe("market.H", two)
        # Redis answers one connection's commands in order: once a later subscribe on the
        # hub's connection is confirmed, the unsubscribe before it has been carried out.
        await hub.subscribe("market.later", Recorder())
        assert subscribers(redis_client, "market.H") == 0
        await hub.stop()

    asyncio.run(scenario())
