"""Trimming an owner's ended records to a cap, against a real Redis: oldest ended first, live
ones kept, what goes with a record goes too, and a walk bounded when the front is all live."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import redis

from jobcast import record_caps
from jobcast.owned_index import index_member
from jobcast.record_caps import Companions, RecordKind
from jobcast.rediskeys import tombstone_key
from jobcast.settings import Settings
from tests.jobcast.test_owned_index import run

INDEX = "test:trim:index"


def record_key(record_id: str) -> str:
    return f"test:trim:rec:{record_id}"


def companions(owner: str, record_id: str, fields: list[str | None]) -> Companions:
    (tag,) = fields
    return Companions(
        keys=[f"test:trim:tag:{tag}"] if tag else [],
        hash_fields=[(f"test:trim:ledger:{owner}", record_id)],
    )


KIND = RecordKind(record_key, frozenset({"done"}), ("tag",), companions)


def add(client: redis.Redis, statuses: Sequence[str | None]) -> list[str]:
    """Records in creation order with these statuses (None: indexed, its record expired)."""
    ids = [f"r{i:03d}" for i in range(len(statuses))]
    for i, (record_id, status) in enumerate(zip(ids, statuses, strict=True)):
        if status is not None:
            client.hset(record_key(record_id), mapping={"status": status, "tag": record_id})
        client.set(f"test:trim:tag:{record_id}", "1")
        client.set(tombstone_key(record_key(record_id)), "alice", ex=40 * 86400)
        client.hset("test:trim:ledger:alice", record_id, "1")
        client.zadd(INDEX, {index_member(1000 + i, record_id): 0})
    return ids


def trim(settings: Settings, cap: int) -> int:
    return run(settings, lambda c: record_caps.trim(c, INDEX, "alice", cap, KIND))


def indexed(client: redis.Redis) -> list[str]:
    members: list[str] = client.zrange(INDEX, 0, -1)  # type: ignore[assignment]
    return [m.split(":", 1)[1] for m in members]


def test_the_oldest_ended_go_first_live_ones_stay_and_their_companions_go_with_them(
    settings: Settings, redis_client: redis.Redis
) -> None:
    ids = add(redis_client, ["live", "done", None, "live", "done", "done", "live"])

    assert trim(settings, 4) == 3

    # The two oldest ended and the expired entry went; every live one stayed.
    assert indexed(redis_client) == [ids[0], ids[3], ids[5], ids[6]]
    for gone in (ids[1], ids[4]):
        assert not redis_client.exists(record_key(gone))
        assert not redis_client.hexists("test:trim:ledger:alice", gone)
    assert not redis_client.exists("test:trim:tag:r001")
    # A record already gone only leaves the index: what went with it may name a newer record
    # by now (a client_order_id taken again), and its expiry or a racing trim saw to the rest.
    assert redis_client.exists("test:trim:tag:r002")
    assert redis_client.hexists("test:trim:ledger:alice", ids[2])
    # The dropped ones' tombstones answer 410 an hour at most, not 40 days.
    for gone in (ids[1], ids[4]):
        ttl = redis_client.ttl(tombstone_key(record_key(gone)))
        assert 0 < ttl <= record_caps.TOMBSTONE_SECONDS
    for kept in (ids[0], ids[3], ids[5], ids[6]):
        assert redis_client.hexists("test:trim:ledger:alice", kept)
        assert redis_client.exists(f"test:trim:tag:{kept}")
        assert redis_client.ttl(tombstone_key(record_key(kept))) > 30 * 86400


def test_under_the_cap_or_with_no_cap_nothing_goes(
    settings: Settings, redis_client: redis.Redis
) -> None:
    ids = add(redis_client, ["done"] * 3)
    assert trim(settings, 3) == 0
    assert trim(settings, 0) == 0
    assert indexed(redis_client) == ids


def test_a_walk_past_live_records_is_bounded(
    settings: Settings, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = add(redis_client, ["live"] * 6 + ["done", "done"])
    monkeypatch.setattr(record_caps, "BATCH", 3)
    monkeypatch.setattr(record_caps, "SCAN_LIMIT", 6)
    assert trim(settings, 2) == 0  # the ended ones lie past the bound: left for the next trim
    assert indexed(redis_client) == ids
    monkeypatch.setattr(record_caps, "SCAN_LIMIT", 7)
    assert trim(settings, 7) == 1  # one over the cap: only the oldest ended one goes
    assert indexed(redis_client) == [*ids[:6], ids[7]]
