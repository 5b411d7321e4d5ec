"""One principal cannot grow Redis without bound through chat: rooms joined at once are capped,
subscribes spend from a budget, and the stream of a room nobody is in expires quickly."""

from __future__ import annotations

import json
import math
import time
from collections import Counter

import redis
from websockets.sync.client import ClientConnection

from jobcast.rediskeys import stream_key
from tests.conftest import StartApi
from tests.realtime.conftest import MakeKey
from tests.realtime.wsclient import authed, recv, send

ROOMS = 1000
#: So the room cap and the subscribe budget are what hit, not the socket's subscription cap nor
#: its refused-frame budget (tests/realtime/test_ws_refused_frames.py), which close it sooner.
ENV = {"JOBCAST_WS_MAX_SUBSCRIPTIONS": "5000", "JOBCAST_WS_REFUSED_FRAMES_BURST": "5000"}


def answers(ws: ClientConnection, count: int) -> dict[int, dict[str, object]]:
    """The answer (`subscribed`, `unsubscribed` or `error`) to each of `count` requests, by id."""
    found: dict[int, dict[str, object]] = {}
    while len(found) < count:
        message = recv(ws, 30)
        if message.get("type") in ("subscribed", "unsubscribed", "error"):
            found[int(message["ref"])] = message
    return found


def chat_streams(redis_client: redis.Redis) -> list[str]:
    return list(redis_client.scan_iter(stream_key("chat.*"), count=1000))


def test_a_thousand_room_joins_hit_the_room_cap_then_the_subscribe_budget(
    start_api: StartApi, make_principal: MakeKey, redis_client: redis.Redis
) -> None:
    _, base = start_api(env=ENV)
    key, _ = make_principal("joiner")
    with authed(base, key) as ws:
        for n in range(ROOMS):
            send(ws, type="subscribe", channel=f"chat.room-{n}", id=n)
        got = answers(ws, ROOMS)
        outcomes = Counter(str(m.get("code", m["type"])) for m in got.values())
        # 20 rooms (the cap), then refusals: the room cap while the budget lasts (200, plus
        # two a second of refill while the test runs), then the budget's.
        assert set(outcomes) == {"subscribed", "too_many_rooms", "rate_limited"}
        assert outcomes["subscribed"] == 20
        assert 180 <= outcomes["too_many_rooms"] <= 180 + 30
        assert "leave one first" in str(got[20]["message"])
        with authed(base, key) as second:  # the cap is the principal's, not the socket's
            send(second, type="subscribe", channel="chat.elsewhere", id=1)
            assert answers(second, 1)[1].get("code") in ("too_many_rooms", "rate_limited")
    assert len(chat_streams(redis_client)) == 20


def test_join_and_leave_churn_is_budgeted_and_empty_rooms_expire_quickly(
    start_api: StartApi, make_principal: MakeKey, redis_client: redis.Redis
) -> None:
    _, base = start_api(env={**ENV, "JOBCAST_CHAT_EMPTY_ROOM_TTL": "120"})
    key, _ = make_principal("churner")
    started = time.monotonic()
    with authed(base, key) as ws:
        for n in range(ROOMS):
            send(ws, type="subscribe", channel=f"chat.churn-{n}", id=2 * n)
            send(ws, type="unsubscribe", channel=f"chat.churn-{n}", id=2 * n + 1)
        got = answers(ws, 2 * ROOMS)
    elapsed = time.monotonic() - started
    joined = sum(1 for m in got.values() if m["type"] == "subscribed")
    # The burst (200), plus what refills (two a second) while the test runs.
    assert 0 < joined <= 200 + 2 * math.ceil(elapsed)
    streams = chat_streams(redis_client)
    assert len(streams) == joined
    ttls = [redis_client.ttl(s) for s in streams]
    assert all(0 < ttl <= 120 for ttl in ttls), sorted(ttls)[-5:]
    # The last event of each is the leave: nobody is in those rooms.
    last = json.loads(redis_client.xrevrange(streams[0], count=1)[0][1]["e"])
    assert last["type"] == "chat.leave"
