"""Redis restarts under subscribed clients: they stay connected and end with every event."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
import redis

from jobcast.embedded_redis import EmbeddedRedis, free_port
from jobcast.events import Event, publish, read_since
from jobcast.keys import create_key
from jobcast.rediskeys import PREFIX
from jobcast.settings import Settings
from tests.conftest import StartApi
from tests.realtime.conftest import PrivateRedis
from tests.realtime.wsclient import authed, is_event, recv_until, subscribe


def seeded(data_dir: Path, dumps: dict[str, Any]) -> Path:
    """A data directory holding only these keys (DUMP payloads), written by a Redis of its own."""
    server = EmbeddedRedis(port=free_port(), password=secrets.token_urlsafe(12), data_dir=data_dir)
    proc = server.start()
    try:
        server.wait_ready()
        client = redis.Redis.from_url(server.url)
        for name, payload in dumps.items():
            client.restore(name, 0, payload)
        client.shutdown(save=False)  # the AOF (appendonly) is flushed on shutdown
    finally:
        proc.wait(timeout=10)
    return data_dir


def market_event(client: redis.Redis, channel: str, n: int) -> str:
    return publish(client, Event(channel, "market.trade", {"n": n}))


@pytest.mark.slow
def test_clients_survive_a_redis_restart_with_replay_or_resync(
    start_api: StartApi, settings: Settings, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    url = private_redis.server.url
    client = redis.Redis.from_url(url, decode_responses=True)
    key, _ = create_key(client, settings.secret("key_secret"), "restart")
    _, base = start_api(env={"JOBCAST_REDIS_URL": url})
    ws = authed(base, key)
    subscribe(ws, "market.ACME")
    for n in range(3):
        market_event(client, "market.ACME", n)
    had = [m for m in recv_until(ws, lambda m: m.get("data", {}).get("n") == 2) if is_event(m)]

    # Restart with its data (AOF): events committed before the hub is back come from the stream.
    private_redis.stop()
    private_redis.start()
    client = redis.Redis.from_url(url, decode_responses=True)
    for n in range(3, 6):
        market_event(client, "market.ACME", n)
    seen = recv_until(
        ws, lambda m: m["type"] == "resync" or m.get("data", {}).get("n") == 5, timeout=20
    )
    got = [m for m in seen if is_event(m)]
    everything = read_since(client, "market.ACME", "0-0")
    assert [e["seq"] for e in had + got] == [e["seq"] for e in everything]

    # Restart without its data: the stream that held our position is gone, so: resync, and
    # nothing of the old stream before it. Only the API keys come back (as from a backup): a key
    # gone from Redis closes its sockets as revoked within a ticker step, not what this tests.
    raw = redis.Redis.from_url(url)  # DUMP payloads are bytes
    keys = {name: raw.dump(name) for name in raw.scan_iter(f"{PREFIX}apikey*")}
    raw.close()
    private_redis.stop()
    private_redis.start(seeded(tmp_path / "redis-empty", keys))
    client = redis.Redis.from_url(url, decode_responses=True)
    before = recv_until(ws, lambda m: m["type"] == "resync", timeout=20)
    assert before[-1] == {"type": "resync", "channel": "market.ACME", "reason": "since_too_old"}
    assert [m for m in before if is_event(m)] == []
    # Live again: an event committed now arrives, once.
    market_event(client, "market.ACME", 6)
    tail = recv_until(ws, lambda m: m.get("data", {}).get("n") == 6, timeout=20)
    assert [m["data"]["n"] for m in tail if is_event(m)] == [6]
    ws.close()
    client.close()
