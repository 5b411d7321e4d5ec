"""Committing a record change with its events, against a real Redis."""

from __future__ import annotations

import json

import redis

from jobcast.events import (
    Commit,
    Event,
    Membership,
    Recent,
    commit,
    read_since,
    seq_of,
    with_seq,
)
from jobcast.rediskeys import pubsub_channel


def test_commit_updates_record_appends_stream_and_publishes_with_seq(
    redis_client: redis.Redis,
) -> None:
    pubsub = redis_client.pubsub()
    pubsub.subscribe(pubsub_channel("job.a1"))
    pubsub.get_message(timeout=1)  # the subscribe confirmation

    event = Event("job.a1", "job.started", {"n": 1})
    result = commit(redis_client, Commit("job:a1", {"status": "running"}, [event]))

    assert result.committed
    assert redis_client.hget("job:a1", "status") == "running"
    message = pubsub.get_message(timeout=2)
    assert message is not None
    # The script's splice, `with_seq` and `seq_of` (which the hub reads without parsing) agree.
    assert message["data"] == with_seq(result.seqs[0], event.body())
    assert seq_of(message["data"]) == result.seqs[0]
    live = json.loads(message["data"])
    assert live["seq"] == result.seqs[0]
    assert live["type"] == "job.started"
    assert live["data"] == {"n": 1}
    assert read_since(redis_client, "job.a1", "0-0") == [live]
    pubsub.close()


def test_commit_with_unmet_precondition_changes_and_announces_nothing(
    redis_client: redis.Redis,
) -> None:
    redis_client.hset("job:b2", "status", "succeeded")
    change = Commit(
        "job:b2",
        {"status": "running"},
        [Event("job.b2", "job.started", {})],
        expect_field="status",
        expect_values=("queued",),
    )

    result = commit(redis_client, change)

    assert not result.committed
    assert result.current == "succeeded"
    assert redis_client.hget("job:b2", "status") == "succeeded"
    assert read_since(redis_client, "job.b2", "0-0") == []


def test_a_commits_releases_go_with_it_and_only_if_it_applies(
    redis_client: redis.Redis,
) -> None:
    redis_client.hset("ledger:c3", mapping={"upload:x": "10 0", "upload:y": "20 0"})
    redis_client.hset("job:c3", "status", "running")
    redis_client.hset("job:d4", "status", "cancelled")

    def finish(record: str) -> bool:
        change = Commit(
            record,
            {"status": "succeeded"},
            [Event(record, "job.succeeded", {}), Event(record + ".b", "job.succeeded", {})],
            expect_field="status",
            expect_values=("running",),
            releases=(("ledger:c3", "upload:" + ("x" if record == "job:c3" else "y")),),
        )
        return commit(redis_client, change).committed

    assert not finish("job:d4")  # not applied: nothing released
    assert finish("job:c3")
    assert redis_client.hgetall("ledger:c3") == {"upload:y": "20 0"}
    assert len(read_since(redis_client, "job:c3.b", "0-0")) == 1  # events after them still go


def test_a_commits_memberships_go_with_it_and_only_if_it_applies(
    redis_client: redis.Redis,
) -> None:
    redis_client.sadd("live", "old")
    redis_client.hset("ledger:e5", mapping={"upload:x": "10 0", "upload:y": "20 0"})
    redis_client.hset("job:e5", "status", "running")
    redis_client.hset("job:f6", "status", "cancelled")

    def finish(record: str) -> bool:
        change = Commit(
            record,
            {"status": "succeeded"},
            [Event(record, "job.succeeded", {})],
            expect_field="status",
            expect_values=("running",),
            releases=(("ledger:e5", "upload:x"),),
            memberships=(Membership("live", "old", False), Membership("live", record, True)),
        )
        return commit(redis_client, change).committed

    assert not finish("job:f6")  # not applied: no set changed
    assert redis_client.smembers("live") == {"old"}
    assert finish("job:e5")
    assert redis_client.smembers("live") == {"job:e5"}
    assert redis_client.hgetall("ledger:e5") == {"upload:y": "20 0"}  # beside a release
    assert len(read_since(redis_client, "job:e5", "0-0")) == 1  # its event after them still goes


def test_a_commits_recent_event_is_kept_as_published_in_a_capped_list(
    redis_client: redis.Redis,
) -> None:
    kept = Recent("said:g7", keep=2, ttl=60, event=1)
    for n in range(3):
        events = [Event("chat.g7", "chat.join", {}), Event("chat.g7", "chat.message", {"n": n})]
        commit(redis_client, Commit("none:g7", {}, events, recents=(kept,)))

    said = [e for e in read_since(redis_client, "chat.g7", "0-0") if e["type"] == "chat.message"]
    assert [json.loads(m) for m in redis_client.lrange("said:g7", 0, -1)] == said[1:]
    assert 0 < redis_client.ttl("said:g7") <= 60


def test_read_since_is_exclusive_and_ordered(redis_client: redis.Redis) -> None:
    seqs = [
        commit(
            redis_client, Commit("job:c3", {}, [Event("job.c3", "job.progress", {"i": i})])
        ).seqs[0]
        for i in range(5)
    ]
    replay = read_since(redis_client, "job.c3", seqs[1])
    assert [e["seq"] for e in replay] == seqs[2:]
    assert [e["data"]["i"] for e in replay] == [2, 3, 4]
