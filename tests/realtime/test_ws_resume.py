"""Resume without gaps: `since` replays from the stream, a late subscriber gets the snapshot."""

from __future__ import annotations

import pytest
import redis

from jobcast.events import STREAM_MAXLEN, read_since
from jobcast.rediskeys import stream_key
from jobcast.settings import Settings
from tests.conftest import SharedStack, module_stack
from tests.realtime.conftest import MakeKey
from tests.realtime.jobs import create_job, progress, succeed
from tests.realtime.wsclient import authed, is_event, recv, recv_until, subscribe

#: One api for the module: each test makes its own principal and job, so their streams are theirs.
stack = module_stack()


@pytest.fixture
def settings(stack: SharedStack) -> Settings:
    return stack.settings


@pytest.fixture
def base(stack: SharedStack) -> str:
    return stack.url


def test_reconnecting_with_since_yields_exactly_the_job_event_sequence(
    base: str, make_principal: MakeKey, redis_client: redis.Redis
) -> None:
    key, owner = make_principal()
    job = create_job(redis_client, owner)
    with authed(base, key) as ws:
        subscribe(ws, f"job.{job}")
        assert recv(ws)["type"] == "snapshot"
        for p in (10.0, 20.0, 30.0):
            progress(redis_client, job, owner, p)
        had = [
            m
            for m in recv_until(ws, lambda m: m.get("data", {}).get("percent") == 30.0)
            if is_event(m)
        ]
    # Disconnected: the job goes on.
    for p in (40.0, 50.0):
        progress(redis_client, job, owner, p)
    with authed(base, key) as ws:
        subscribe(ws, f"job.{job}", since=had[-1]["seq"])
        for p in (60.0, 70.0):
            progress(redis_client, job, owner, p)
        succeed(redis_client, job, owner, {"rows": 7})
        got = [m for m in recv_until(ws, lambda m: m.get("type") == "job.succeeded") if is_event(m)]
    everything = read_since(redis_client, f"job.{job}", "0-0")
    assert [e["seq"] for e in had + got] == [e["seq"] for e in everything]
    assert [e["data"].get("percent") for e in had + got][:7] == [
        10.0,
        20.0,
        30.0,
        40.0,
        50.0,
        60.0,
        70.0,
    ]


def test_subscribing_after_completion_gets_the_result_snapshot(
    base: str, make_principal: MakeKey, redis_client: redis.Redis
) -> None:
    key, owner = make_principal()
    job = create_job(redis_client, owner)
    progress(redis_client, job, owner, 50.0)
    last = succeed(redis_client, job, owner, {"rows": 42})
    with authed(base, key) as ws:
        subscribe(ws, f"job.{job}")
        snapshot = recv(ws)
    assert snapshot["type"] == "snapshot"
    assert snapshot["data"]["status"] == "succeeded"
    assert snapshot["data"]["result"] == {"rows": 42}
    assert snapshot["seq"] == last


def test_since_older_than_the_stream_keeps_asks_for_a_resync(
    base: str, make_principal: MakeKey, redis_client: redis.Redis
) -> None:
    key, owner = make_principal()
    job = create_job(redis_client, owner)
    first = progress(redis_client, job, owner, 1.0)
    # Trim the stream past `first`, as MAXLEN does on a long-running channel.
    progress(redis_client, job, owner, 2.0)
    redis_client.xtrim(stream_key(f"job.{job}"), maxlen=1, approximate=False)
    assert STREAM_MAXLEN > 1
    with authed(base, key) as ws:
        subscribe(ws, f"job.{job}", since=first)
        resync = recv(ws)
        snapshot = recv(ws)
    assert resync == {"type": "resync", "channel": f"job.{job}", "reason": "since_too_old"}
    assert snapshot["type"] == "snapshot"
    assert snapshot["data"]["status"] == "running"


def test_a_since_the_channel_never_held_gets_a_resync_saying_which(
    base: str, make_principal: MakeKey, redis_client: redis.Redis
) -> None:
    # A since past the newest event was told `since_too_old`, which it is not.
    key, owner = make_principal()
    job = create_job(redis_client, owner)
    progress(redis_client, job, owner, 1.0)
    # Between two events it holds, one it does not: as a cursor from another channel would be.
    foreign = progress(redis_client, job, owner, 2.0)
    redis_client.xdel(stream_key(f"job.{job}"), foreign)
    progress(redis_client, job, owner, 3.0)
    with authed(base, key) as ws:
        answers = []
        for since in ("9999999999999-0", foreign):
            subscribe(ws, f"job.{job}", since=since)
            answers.append((recv(ws), recv(ws)))
            ws.send(f'{{"type": "unsubscribe", "channel": "job.{job}", "id": "u"}}')
            recv_until(ws, lambda m: m.get("ref") == "u")
    ahead, unknown = answers
    assert ahead[0] == {"type": "resync", "channel": f"job.{job}", "reason": "since_ahead"}
    assert unknown[0] == {"type": "resync", "channel": f"job.{job}", "reason": "since_unknown"}
    # The same start as for any resync: the job as it is now.
    assert ahead[1]["type"] == unknown[1]["type"] == "snapshot"


def test_subscribed_without_since_names_the_seq_a_reconnect_resumes_from(
    base: str, make_principal: MakeKey, redis_client: redis.Redis
) -> None:
    key, owner = make_principal()
    with authed(base, key) as ws:
        assert subscribe(ws, "user.me")["seq"] == "0-0"  # nothing on the channel yet
    job = create_job(redis_client, owner)
    before = progress(redis_client, job, owner, 10.0, on_user=True)
    with authed(base, key) as ws:
        start = subscribe(ws, "user.me")["seq"]
    assert start == before
    # The connection dropped before any event reached it; the job went on meanwhile.
    away = [progress(redis_client, job, owner, p, on_user=True) for p in (20.0, 30.0)]
    with authed(base, key) as ws:
        subscribe(ws, "user.me", since=start)
        got = [m for m in recv_until(ws, lambda m: m.get("seq") == away[-1]) if is_event(m)]
    assert [m["seq"] for m in got] == away
    assert [e["seq"] for e in read_since(redis_client, f"user.{owner}", start)] == away
