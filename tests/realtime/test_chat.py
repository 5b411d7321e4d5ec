"""Chat presence against a real Redis: expired entries are reaped and announced exactly once."""

from __future__ import annotations

import asyncio
import time

import redis
import redis.asyncio as aioredis

from jobcast import rediskeys
from jobcast.events import Event, publish_async, read_since
from jobcast.keys import Principal
from jobcast.settings import Settings
from realtime import chat

ROOM = "chat.reaped"


def test_racing_reapers_announce_each_expired_principal_once(
    settings: Settings, redis_client: redis.Redis
) -> None:
    alive, dead = Principal("p_alive", "alive"), Principal("p_dead", "dead")

    async def scenario() -> None:
        client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        await chat.refresh(client, ROOM, alive, "c1", ttl=30)
        # Given two connections of a principal whose api process died (their entries expired)
        for connection in ("c2", "c3"):
            await chat.refresh(client, ROOM, dead, connection, ttl=0.05)
        await asyncio.sleep(0.1)
        # When every api process serving the room reaps it at once
        await asyncio.gather(*(chat.reap(client, ROOM, 600) for _ in range(5)))
        await client.aclose()

    asyncio.run(scenario())

    # Then the room hears of the dead principal leaving exactly once, and of no one else
    leaves = [e for e in read_since(redis_client, ROOM, "0-0") if e["type"] == "chat.leave"]
    assert [(e["data"]["principal"]["id"], e["data"]["reason"]) for e in leaves] == [
        ("p_dead", "expired")
    ]
    assert leaves[0]["data"]["present"] == [{"id": "p_alive", "name": "alive"}]
    assert redis_client.zcount(rediskeys.presence_key(ROOM), "-inf", time.time()) == 0


def test_a_principal_still_connected_elsewhere_does_not_leave(
    settings: Settings, redis_client: redis.Redis
) -> None:
    someone = Principal("p_two", "two")

    async def scenario() -> None:
        client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        await chat.refresh(client, ROOM, someone, "on-dead-process", ttl=0.05)
        await chat.refresh(client, ROOM, someone, "on-live-process", ttl=30)
        await asyncio.sleep(0.1)
        await chat.reap(client, ROOM, 600)
        assert await chat.present(client, ROOM) == [{"id": "p_two", "name": "two"}]
        await client.aclose()

    asyncio.run(scenario())

    assert [e["type"] for e in read_since(redis_client, ROOM, "0-0")] == []


def test_connections_joining_and_leaving_at_once_announce_it_once(
    settings: Settings, redis_client: redis.Redis
) -> None:
    someone = Principal("p_many", "many")
    connections = [f"c{n}" for n in range(5)]

    async def scenario() -> None:
        client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        # The same principal in the room from five sockets (several api processes) at once
        await asyncio.gather(
            *(chat.join(client, ROOM, someone, c, 30, 20, 600) for c in connections)
        )
        assert await chat.present(client, ROOM) == [{"id": "p_many", "name": "many"}]
        await asyncio.gather(*(chat.leave(client, ROOM, someone, c, 600) for c in connections))
        await client.aclose()

    asyncio.run(scenario())

    types = [e["type"] for e in read_since(redis_client, ROOM, "0-0")]
    assert types == ["chat.join", "chat.leave"]


def test_a_rooms_history_outlives_its_stream_being_trimmed(
    settings: Settings, redis_client: redis.Redis
) -> None:
    room, someone = "chat.trimmed", Principal("p_says", "says")
    said = {"from": {"id": someone.id, "name": someone.name}, "text": "still here"}

    async def scenario() -> tuple[list[dict[str, object]], str | None]:
        client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        seq = await chat.say(client, settings, room, someone, {"text": "still here"})
        join = Event(room, "chat.join", {"principal": said["from"], "present": []})
        newest = await publish_async(client, join)
        # The stream's cap trims the message away (churn of joins and leaves does it)
        await client.xtrim(rediskeys.stream_key(room), minid=newest, approximate=False)
        messages, latest = await chat.history(client, room, 5)
        await client.aclose()
        assert seq < newest
        return messages, latest

    messages, latest = asyncio.run(scenario())

    assert [m["data"] for m in messages] == [said]
    assert latest == read_since(redis_client, room, "0-0")[-1]["seq"]


def test_an_empty_rooms_messages_expire_with_it_unless_someone_comes_back(
    settings: Settings, redis_client: redis.Redis
) -> None:
    room, someone = "chat.emptied", Principal("p_back", "back")
    messages = rediskeys.chat_messages_key(room)

    async def scenario() -> None:
        client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        await chat.join(client, room, someone, "c1", 30, 20, 600)
        await chat.say(client, settings, room, someone, {"text": "before the lull"})
        await chat.leave(client, room, someone, "c1", 600)
        assert 0 < await client.ttl(messages) <= 600
        await chat.join(client, room, someone, "c2", 30, 20, 600)
        await client.aclose()

    asyncio.run(scenario())

    # Back to the stream's own lifetime, as the join gave the stream
    assert redis_client.ttl(messages) > 600
    assert redis_client.ttl(rediskeys.stream_key(room)) > 600


def _said(principal: Principal, text: str) -> dict[str, object]:
    return {"from": {"id": principal.id, "name": principal.name}, "text": text}


async def _say_the_old_way(client: aioredis.Redis, room: str, principal: Principal) -> list[str]:
    """Messages, with a join among them, written as before the list existed: the stream only."""
    join = Event(room, "chat.join", {"principal": _said(principal, "")["from"], "present": []})
    seqs = [await publish_async(client, Event(room, "chat.message", _said(principal, "one")))]
    await publish_async(client, join)
    for text in ("two", "three"):
        seqs.append(
            await publish_async(client, Event(room, "chat.message", _said(principal, text)))
        )
    return seqs


def test_a_room_from_before_the_message_list_serves_its_history_from_its_stream(
    settings: Settings, redis_client: redis.Redis
) -> None:
    room, old = "chat.upgraded", Principal("p_old", "old")

    async def scenario() -> tuple[list[str], list[dict[str, object]], str | None]:
        client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        seqs = await _say_the_old_way(client, room, old)
        messages, latest = await chat.history(client, room, 2)
        await client.aclose()
        return seqs, messages, latest

    seqs, messages, latest = asyncio.run(scenario())

    # The last two messages as they were published, and the hand-off at the stream's newest
    assert messages == read_since(redis_client, room, seqs[0])[-2:]
    assert [m["data"] for m in messages] == [_said(old, "two"), _said(old, "three")]
    assert [m["seq"] for m in messages] == seqs[1:]
    assert latest == seqs[-1]


def test_an_upgraded_rooms_old_messages_stay_in_its_history_when_someone_speaks(
    settings: Settings, redis_client: redis.Redis
) -> None:
    room, old, new = "chat.seeded", Principal("p_old", "old"), Principal("p_new", "new")

    async def scenario() -> tuple[list[dict[str, object]], str | None]:
        client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        await _say_the_old_way(client, room, old)
        await client.expire(rediskeys.stream_key(room), 600)  # an empty room's lifetime
        await chat.history(client, room, 5)  # the first newcomer after the upgrade
        # Kept no longer than the stream it was read from
        assert 0 < await client.ttl(rediskeys.chat_messages_key(room)) <= 600
        await chat.say(client, settings, room, new, {"text": "four"})
        history = await chat.history(client, room, 5)
        await client.aclose()
        return history

    messages, latest = asyncio.run(scenario())

    texts = [m["data"]["text"] for m in messages]  # type: ignore[index]
    assert texts == ["one", "two", "three", "four"]
    assert latest == messages[-1]["seq"]


def test_a_room_with_its_message_list_reads_the_list_not_the_stream(
    settings: Settings, redis_client: redis.Redis
) -> None:
    room, someone = "chat.listed", Principal("p_list", "list")

    async def scenario() -> tuple[list[dict[str, object]], str | None]:
        client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        await chat.say(client, settings, room, someone, {"text": "in the list"})
        # A message the list does not hold (an api process of the old code, mid-upgrade)
        await publish_async(client, Event(room, "chat.message", _said(someone, "stream only")))
        history = await chat.history(client, room, 5)
        await client.aclose()
        return history

    messages, latest = asyncio.run(scenario())

    assert [m["data"] for m in messages] == [_said(someone, "in the list")]
    assert latest == read_since(redis_client, room, "0-0")[-1]["seq"]
