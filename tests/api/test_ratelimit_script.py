"""The GCRA script against a real Redis, at the edges of its arithmetic."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from jobcast.quotas import RESERVED, Limits, reservation, reserve_args
from jobcast.ratelimit import Budget, spend, spend_and_read, spend_and_reserve
from jobcast.rediskeys import quota_ledger_key
from jobcast.settings import Settings


def test_a_budget_finer_than_the_clock_still_allows_and_never_errors(settings: Settings) -> None:
    """A per-minute limit so high that one interval is below a millisecond timestamp's float
    precision used to make the script write `PX 0`, which Redis refuses (a 500 per request)."""

    async def run() -> list[bool]:
        client = aioredis.Redis.from_url(settings.broker_url)
        try:
            budget = Budget("huge", per_minute=10**12, burst=10)
            return [(await spend(client, budget, "who")).allowed for _ in range(5)]
        finally:
            await client.aclose()

    assert asyncio.run(run()) == [True] * 5


def test_a_spent_burst_is_refused_with_a_retry_after(settings: Settings) -> None:
    async def run() -> list[tuple[bool, int]]:
        client = aioredis.Redis.from_url(settings.broker_url)
        try:
            budget = Budget("tight", per_minute=1, burst=2)
            decisions = [await spend(client, budget, "who") for _ in range(3)]
            return [(d.allowed, d.retry_after_s) for d in decisions]
        finally:
            await client.aclose()

    allowed = asyncio.run(run())
    assert [a for a, _ in allowed] == [True, True, False]
    assert allowed[2][1] >= 1


def test_spend_and_read_reads_the_record_only_when_the_spend_is_allowed(
    settings: Settings,
) -> None:
    async def run() -> list[tuple[bool, dict[str, str]]]:
        client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        try:
            await client.hset("rec", mapping={"owner": "p_1", "status": "queued"})
            budget = Budget("tight", per_minute=1, burst=1)
            answers = [await spend_and_read(client, budget, "who", "rec") for _ in range(2)]
            return [(d.allowed, record) for d, record in answers]
        finally:
            await client.aclose()

    assert asyncio.run(run()) == [(True, {"owner": "p_1", "status": "queued"}), (False, {})]


def test_spend_and_read_gives_back_every_field_as_stored(settings: Settings) -> None:
    stored = {
        "owner": "p_1",
        "result": '{"a": [1, 2.5e-7], "b": "x\\\\y"}',
        "name": 'naïve "quoted" \\ / \n\t ✓ 𝄞',
        "progress": "0.50",
        "empty": "",
    }

    async def run() -> dict[str, str]:
        client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        try:
            await client.hset("rec", mapping=stored)
            budget = Budget("loose", per_minute=60, burst=10)
            return (await spend_and_read(client, budget, "who", "rec"))[1]
        finally:
            await client.aclose()

    assert asyncio.run(run()) == stored


def test_spend_and_read_leaves_out_the_fields_it_is_told_to(settings: Settings) -> None:
    async def run() -> tuple[dict[str, str], dict[str, str]]:
        client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        try:
            await client.hset("rec", mapping={"owner": "p_1", "result": "x" * 50_000, "n": "1"})
            budget = Budget("loose", per_minute=60, burst=10)
            _, without = await spend_and_read(client, budget, "who", "rec", ("result", "absent"))
            _, whole = await spend_and_read(client, budget, "who", "rec")
            return without, whole
        finally:
            await client.aclose()

    without, whole = asyncio.run(run())
    assert without == {"owner": "p_1", "n": "1"}
    assert whole["result"] == "x" * 50_000


def test_a_refused_spend_reserves_nothing_and_an_allowed_one_reserves(settings: Settings) -> None:
    """The upload's first reservation rides on its request's spend: never without it."""
    ledger = quota_ledger_key("p_spender")
    limits = Limits(max_bytes=100, max_streaming=0, max_active=0)

    async def run() -> list[tuple[bool, int]]:
        client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        try:
            budget = Budget("once", per_minute=1, burst=1)
            answers = []
            for entry in ("streaming:a", "streaming:b"):
                args = reserve_args(entry, 60, 60.0, limits)
                decision, raw = await spend_and_reserve(client, budget, "p_spender", ledger, args)
                answers.append((decision.allowed, reservation(raw).verdict))
            assert list(await client.hkeys(ledger)) == ["streaming:a"]
            return answers
        finally:
            await client.aclose()

    assert asyncio.run(run()) == [(True, RESERVED), (False, 0)]
