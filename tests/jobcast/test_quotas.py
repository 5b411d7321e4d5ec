"""The stored-bytes ledger's script on a real Redis: the check and the reservation are one step."""

from __future__ import annotations

import redis

from jobcast import quotas, rediskeys, scripts

OWNER = "p_ledger"


def reserve(
    client: redis.Redis, entry: str, size: int, limits: quotas.Limits, ttl: float = 60.0
) -> quotas.Reservation:
    args = quotas.reserve_args(entry, size, ttl, limits)
    keys = [rediskeys.quota_ledger_key(OWNER)]
    return quotas.reservation(scripts.run(client, "quota_reserve", keys, args))


def test_the_last_bytes_go_to_one_reservation_only(redis_client: redis.Redis) -> None:
    limits = quotas.Limits(max_bytes=100, max_streaming=0, max_active=0)
    assert reserve(redis_client, "upload:a", 60, limits).verdict == quotas.RESERVED
    refused = reserve(redis_client, "upload:b", 41, limits)
    assert (refused.verdict, refused.used) == (quotas.OVER_BYTES, 60)
    assert "upload:b" not in redis_client.hgetall(rediskeys.quota_ledger_key(OWNER))
    assert reserve(redis_client, "upload:b", 40, limits).verdict == quotas.RESERVED
    # Growing an entry counts it once: 60 + 40 -> 60 + 40 is still within the quota.
    assert reserve(redis_client, "upload:b", 40, limits).verdict == quotas.RESERVED


def test_expired_entries_free_their_bytes_and_leave_the_ledger(
    redis_client: redis.Redis,
) -> None:
    quotas.charge(redis_client, OWNER, quotas.artifact_entry("j_old"), 90, ttl=-1)  # expired
    quotas.charge(redis_client, OWNER, quotas.artifact_entry("j_new"), 30, ttl=3600)
    limits = quotas.Limits(max_bytes=100, max_streaming=0, max_active=0)

    result = reserve(redis_client, "upload:c", 70, limits)

    assert (result.verdict, result.used) == (quotas.RESERVED, 30)
    ledger = redis_client.hgetall(rediskeys.quota_ledger_key(OWNER))
    assert sorted(ledger) == ["artifact:j_new", "upload:c"]
    assert 3500 < redis_client.ttl(rediskeys.quota_ledger_key(OWNER)) <= 3600  # its longest entry


def test_only_uploads_in_progress_count_against_the_concurrent_cap(
    redis_client: redis.Redis,
) -> None:
    limits = quotas.Limits(max_bytes=0, max_streaming=1, max_active=0)
    quotas.charge(redis_client, OWNER, quotas.upload_entry("waiting"), 10, ttl=60)
    first = quotas.streaming_entry("one")
    assert reserve(redis_client, first, 10, limits).verdict == quotas.RESERVED
    assert reserve(redis_client, first, 20, limits).verdict == quotas.RESERVED  # itself
    over = reserve(redis_client, quotas.streaming_entry("two"), 10, limits)
    assert (over.verdict, over.streaming) == (quotas.OVER_UPLOADS, 1)
    quotas.release(redis_client, OWNER, first)
    assert reserve(redis_client, quotas.streaming_entry("two"), 10, limits).verdict == 0


def test_a_new_upload_is_refused_while_the_cap_of_jobs_is_queued_or_running(
    redis_client: redis.Redis,
) -> None:
    limits = quotas.Limits(max_bytes=0, max_streaming=0, max_active=2)
    early = quotas.streaming_entry("early")
    assert reserve(redis_client, early, 10, limits).verdict == quotas.RESERVED
    quotas.charge(redis_client, OWNER, quotas.upload_entry("gone"), 10, ttl=-1)  # expired
    quotas.charge(redis_client, OWNER, quotas.artifact_entry("j_done"), 10, ttl=60)  # ended
    for stored in ("a", "b"):
        quotas.charge(redis_client, OWNER, quotas.upload_entry(stored), 10, ttl=60)

    over = reserve(redis_client, quotas.streaming_entry("late"), 10, limits)

    assert (over.verdict, over.active) == (quotas.OVER_ACTIVE_JOBS, 2)
    assert "streaming:late" not in redis_client.hgetall(rediskeys.quota_ledger_key(OWNER))
    # What was already under way goes on: an upload streaming, a converted file growing.
    assert reserve(redis_client, early, 20, limits).verdict == quotas.RESERVED
    artifact = quotas.artifact_entry("j_running")
    assert reserve(redis_client, artifact, 10, limits).verdict == quotas.RESERVED
    quotas.release(redis_client, OWNER, quotas.upload_entry("a"))  # its job ended
    assert (
        reserve(redis_client, quotas.streaming_entry("late"), 10, limits).verdict == quotas.RESERVED
    )
