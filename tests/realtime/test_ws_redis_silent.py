"""A pub/sub connection that dies without closing (half-open TCP): clients still get every event.

The api reaches Redis through a proxy that can silence its connections the way a NAT or a
firewall forgets a flow: no FIN, no RST, just nothing. The events are committed on the real
Redis meanwhile, as workers (which have their own route to Redis) would.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from jobcast.events import Event, publish, read_since
from jobcast.settings import Settings
from tests.conftest import StartApi
from tests.realtime.conftest import MakeKey
from tests.realtime.wsclient import Message, authed, is_event, recv_until, subscribe
from tests.support.processes import market_symbols
from tests.support.tcp_proxy import TcpProxy

PING_INTERVAL = 0.5
PING_TIMEOUT = 1.0
#: Interval + timeout + the first reconnect backoff, then the catch-up itself: its pooled
#: connection may have been silenced too, and fails only after the pool's socket timeout (5 s).
RECOVERY_SECONDS = PING_INTERVAL + PING_TIMEOUT + 0.1 + 5.0 + 8.0


@pytest.fixture
def proxy(settings: Settings) -> Iterator[TcpProxy]:
    target = urlsplit(settings.broker_url)
    server = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    server.start()
    yield server
    server.stop()


def via(url: str, proxy: TcpProxy) -> str:
    """`url` with its host and port replaced by the proxy's."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@" if credentials else ""
    return urlunsplit(parts._replace(netloc=f"{netloc}127.0.0.1:{proxy.port}"))


def trade(client: redis.Redis, n: int) -> str:
    return publish(client, Event("market.S", "market.trade", {"n": n}))


def numbers(messages: list[Message]) -> list[int]:
    return [m["data"]["n"] for m in messages if is_event(m)]


@pytest.mark.slow
def test_clients_get_events_after_the_hub_connection_goes_silent(
    start_api: StartApi,
    make_principal: MakeKey,
    redis_client: redis.Redis,
    settings: Settings,
    proxy: TcpProxy,
) -> None:
    # Given a client subscribed through an api whose Redis connections all go through the proxy
    key, _ = make_principal("silent")
    api, base = start_api(
        env={
            "JOBCAST_REDIS_URL": via(settings.broker_url, proxy),
            "JOBCAST_WS_HUB_PING_INTERVAL": str(PING_INTERVAL),
            "JOBCAST_WS_HUB_PING_TIMEOUT": str(PING_TIMEOUT),
            **market_symbols("S"),  # this test's own market
        }
    )
    ws = authed(base, key)
    subscribe(ws, "market.S")
    trade(redis_client, 0)
    had = recv_until(ws, lambda m: m.get("data", {}).get("n") == 0)

    # When every connection the api holds goes silent, and events are committed meanwhile
    assert proxy.blackhole() >= 1
    for n in range(1, 4):
        trade(redis_client, n)

    # Then the hub notices, reconnects, and the client catches up from the stream (or is told
    # to resync), and live events flow again
    seen = recv_until(
        ws,
        lambda m: m["type"] == "resync" or m.get("data", {}).get("n") == 3,
        timeout=RECOVERY_SECONDS,
    )
    if seen[-1]["type"] != "resync":
        everything = read_since(redis_client, "market.S", "0-0")
        got = [m for m in had + seen if is_event(m)]
        assert [m["seq"] for m in got] == [e["seq"] for e in everything]
    trade(redis_client, 4)
    assert numbers(recv_until(ws, lambda m: m.get("data", {}).get("n") == 4)) == [4]
    assert "no answer to a PING" in api.output()
    ws.close()
