"""The hub holds one Redis subscription per channel, however many local listeners it has."""

from __future__ import annotations

import asyncio
import re
import signal
import time

import redis

from jobcast.events import Event, publish
from jobcast.redis_clients import async_client
from jobcast.rediskeys import pubsub_channel
from jobcast.seq import seq_key
from jobcast.settings import Settings
from realtime.hub import CONFIRM_TIMEOUT, ChannelHub, HubUnavailableError
from tests.conftest import StartApi
from tests.realtime.conftest import PrivateRedis
from tests.support.processes import wait_for


class Recorder:
    def __init__(self) -> None:
        self.seqs: list[tuple[int, int]] = []
        self.delivered = asyncio.Event()

    def deliver(self, raw: str, seq: tuple[int, int], ts: float) -> None:
        self.seqs.append(seq)
        self.delivered.set()

    def resubscribed(self) -> None:
        pass


async def subscribe_once_back(hub: ChannelHub, channel: str, within: float = 10) -> Recorder:
    """A listener on `channel`, subscribed as soon as the hub has Redis again."""
    async with asyncio.timeout(within):
        while True:
            try:
                listener = Recorder()
                await hub.subscribe(channel, listener)
                return listener
            except HubUnavailableError:
                await asyncio.sleep(0.1)


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


GAP_SUBSCRIBES = 60


def test_subscribe_while_redis_is_away_fails_cleanly_and_works_once_back(
    settings: Settings, private_redis: PrivateRedis
) -> None:
    """Subscribes racing the pub/sub connection's teardown and reconnect get the hub's own
    retryable error (never a redis-py internal one) and leave no listener behind; once Redis is
    back, a channel subscribed anew delivers each event exactly once."""
    url = private_redis.server.url
    hub_settings = settings.model_copy(update={"redis_url": url})

    async def scenario() -> None:
        hub = ChannelHub(async_client(hub_settings), max_backoff=0.2)
        await hub.start()
        await hub.subscribe("market.before", Recorder())
        private_redis.stop()
        refused: list[BaseException] = []

        async def one(n: int) -> None:
            try:
                await hub.subscribe(f"market.gap{n}", Recorder())
            except Exception as exc:  # any other kind is the bug under test
                refused.append(exc)

        # Subscribes arrive at every moment of the gap: while the dead connection is noticed,
        # torn down and retried.
        tasks = []
        for n in range(GAP_SUBSCRIBES):
            tasks.append(asyncio.create_task(one(n)))
            await asyncio.sleep(0.005)
        # Each one is answered within the hub's confirmation timeout, side by side.
        _, late_ones = await asyncio.wait(tasks, timeout=CONFIRM_TIMEOUT + 5)
        assert not late_ones, f"{len(late_ones)} subscribes still waiting; refused: {refused}"
        assert refused, "Redis was away, yet every subscribe succeeded"
        assert {type(exc) for exc in refused} == {HubUnavailableError}, refused
        assert set(hub.channels) == {"market.before"} | {
            f"market.gap{n}" for n in range(GAP_SUBSCRIBES)
        } - {str(exc) for exc in refused}

        private_redis.start()
        client = redis.Redis.from_url(url, decode_responses=True)
        late = await subscribe_once_back(hub, "market.after")
        assert subscribers(client, "market.after") == 1
        seq = publish(client, Event("market.after", "market.trade", {}))
        async with asyncio.timeout(5):
            await late.delivered.wait()
        await asyncio.sleep(0.3)  # room for a duplicate to arrive
        assert late.seqs == [seq_key(seq)]
        client.close()
        await hub.stop()

    asyncio.run(scenario())


LEAVING_LISTENERS = 100
#: Rounds of leaving listeners (the race is narrow: one round of 100 met it about half the time).
LEAVING_ROUNDS = 6


def test_listeners_leave_without_error_while_the_pubsub_connection_is_remade(
    settings: Settings, private_redis: PrivateRedis
) -> None:
    """Unsubscribes racing the reconnect of a pub/sub connection Redis dropped never fail (the
    soak saw asyncio's "readuntil() called while another coroutine is already waiting" escape
    one, and the WebSocket that left was answered internal_error); the hub delivers after."""
    url = private_redis.server.url
    hub_settings = settings.model_copy(update={"redis_url": url})
    client = redis.Redis.from_url(url, decode_responses=True)

    async def leave_while_dropped(hub: ChannelHub, round_: int) -> list[BaseException]:
        leaving = {f"market.leave{round_}.{n}": Recorder() for n in range(LEAVING_LISTENERS)}
        async with asyncio.timeout(10):
            await hub.connected.wait()
        for channel, listener in leaving.items():
            await hub.subscribe(channel, listener)
        failures: list[BaseException] = []
        for channel, listener in leaving.items():
            client.client_kill_filter(_type="pubsub")  # as a Redis restart would
            await asyncio.sleep(0)  # the read loop sees the loss and starts reconnecting
            try:
                await hub.unsubscribe(channel, listener)
            except Exception as exc:  # any failure is the bug under test
                failures.append(exc)
        return failures

    async def scenario() -> None:
        hub = ChannelHub(async_client(hub_settings), max_backoff=0.05)
        await hub.start()
        for round_ in range(LEAVING_ROUNDS):
            assert await leave_while_dropped(hub, round_) == []
        assert hub.channels == []

        late = await subscribe_once_back(hub, "market.after")
        seq = publish(client, Event("market.after", "market.trade", {}))
        async with asyncio.timeout(5):
            await late.delivered.wait()
        assert late.seqs == [seq_key(seq)]
        await hub.stop()

    try:
        asyncio.run(scenario())
    finally:
        client.close()


#: Seconds the api's Redis stays away: several of the quick pings and reconnect attempts below.
STOPPED_S = 2


def test_an_api_says_once_that_its_pub_sub_is_lost_and_once_that_it_is_back(
    start_api: StartApi, private_redis: PrivateRedis
) -> None:
    # During a stall the lost line came every backoff (5 s), and no line said when it was over.
    assert private_redis.proc is not None
    quick = {
        "JOBCAST_REDIS_URL": private_redis.server.url,
        "JOBCAST_WS_HUB_PING_INTERVAL": "0.3",
        "JOBCAST_WS_HUB_PING_TIMEOUT": "0.5",
        "JOBCAST_WS_RECONNECT_MAX_BACKOFF": "0.3",
    }
    proc, _ = start_api(env=quick)
    private_redis.proc.send_signal(signal.SIGSTOP)
    try:
        lost = "pub/sub connection lost"
        wait_for(lambda: lost in proc.output(), 10, "the hub to lose Redis", proc)
        time.sleep(STOPPED_S)  # many pings and reconnects while Redis stays stopped
    finally:
        private_redis.proc.send_signal(signal.SIGCONT)
    back = re.compile(r"INFO jobcast\.realtime\.hub: pub/sub reconnected after (\d+\.\d) s")
    wait_for(lambda: back.search(proc.output()) is not None, 10, "the reconnect line", proc)
    lines = proc.output().splitlines()
    assert len([line for line in lines if lost in line]) == 1, proc.output()[-3000:]
    match = back.search(proc.output())
    assert match is not None
    assert STOPPED_S <= float(match[1]) < 15


def test_an_api_whose_redis_refuses_it_for_a_while_says_so_once_not_at_every_attempt(
    start_api: StartApi, private_redis: PrivateRedis
) -> None:
    quick = {
        "JOBCAST_REDIS_URL": private_redis.server.url,
        "JOBCAST_WS_RECONNECT_MAX_BACKOFF": "0.2",
    }
    proc, _ = start_api(env=quick)
    private_redis.stop()
    lost = "pub/sub connection lost"
    wait_for(lambda: lost in proc.output(), 10, "the hub to lose Redis", proc)
    time.sleep(STOPPED_S)  # a refused attempt every 0.2 s
    private_redis.start()
    wait_for(lambda: "pub/sub reconnected after" in proc.output(), 10, "the reconnect line", proc)
    lines = proc.output().splitlines()
    assert len([line for line in lines if lost in line]) == 1, proc.output()[-3000:]
    assert not [line for line in lines if "still down" in line]
    (back,) = [line for line in lines if "pub/sub reconnected after" in line]
    assert int(re.findall(r"\((\d+) failed attempts\)", back)[0]) >= 5
