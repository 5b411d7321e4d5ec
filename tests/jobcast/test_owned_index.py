"""The one owned-index walk against a real Redis: order, cursors, filters, pruning, bounds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis
import redis.asyncio as aioredis

from jobcast.owned_index import (
    Listing,
    OwnedIndex,
    Position,
    id_of_member,
    index_member,
    list_owned,
    newest_first,
    oldest_first,
    position_of,
)
from jobcast.settings import Settings

T = TypeVar("T")
OWNER = "alice"


def record_key(member: str) -> str:
    return f"test:rec:{id_of_member(member)}"


def run(settings: Settings, work: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
    async def go() -> T:
        client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
        try:
            return await work(client)
        finally:
            await client.aclose()

    return asyncio.run(go())


def ms(milliseconds: int) -> int:
    return milliseconds * 1_000_000


def add_oldest_first(client: redis.Redis, n: int, owner: str = OWNER) -> list[str]:
    """`n` records in a lex index, created 1 ms apart; their ids in creation order."""
    ids = [f"r{i:03d}" for i in range(n)]
    for i, record_id in enumerate(ids):
        client.hset(record_key(record_id), mapping={"owner": owner, "n": str(i)})
        client.zadd("test:index", {index_member(ms(1000 + i), record_id): 0})
    return ids


def lex_index() -> OwnedIndex:
    return OwnedIndex("test:index", OWNER, record_key, oldest_first)


def walk_all(
    settings: Settings, index: OwnedIndex, limit: int, **kw: object
) -> tuple[list[list[str]], list[str | None]]:
    """Every page from the start: the ids on each page and each page's cursor."""

    async def work(client: aioredis.Redis) -> tuple[list[list[str]], list[str | None]]:
        pages: list[list[str]] = []
        cursors: list[str | None] = []
        after: Position | None = None
        while True:
            listing: Listing = await list_owned(client, index, after, limit, **kw)  # type: ignore[arg-type]
            pages.append([r["id"] if "id" in r else r["n"] for r in listing.records])
            cursors.append(listing.next_cursor)
            if listing.next_cursor is None:
                return pages, cursors
            after = (
                await position_of(client, index.key, listing.next_cursor)
                if index.fetch is newest_first
                else Position(listing.next_cursor)
            )

    return run(settings, work)


def test_oldest_first_pages_every_record_once_in_creation_order(
    settings: Settings, redis_client: redis.Redis
) -> None:
    add_oldest_first(redis_client, 7)
    pages, cursors = walk_all(settings, lex_index(), 3)
    assert pages == [["0", "1", "2"], ["3", "4", "5"], ["6"]]
    assert cursors == [index_member(ms(1002), "r002"), index_member(ms(1005), "r005"), None]


def test_records_of_one_millisecond_list_in_the_order_made_and_old_members_still_sort(
    settings: Settings, redis_client: redis.Redis
) -> None:
    # Ids against the order made, all within millisecond 1001, and members of the shape
    # written before nanoseconds (`<ms>:<id>`) in the milliseconds before and after.
    made = [("zz", ms(1001) + 5), ("aa", ms(1001) + 6), ("mm", ms(1001) + 900_000)]
    for n, (record_id, ns) in enumerate(made, start=1):
        redis_client.hset(record_key(record_id), mapping={"owner": OWNER, "n": str(n)})
        redis_client.zadd("test:index", {index_member(ns, record_id): 0})
    for n, (record_id, millisecond) in ((0, ("old0", 1000)), (4, ("old4", 1002))):
        redis_client.hset(record_key(record_id), mapping={"owner": OWNER, "n": str(n)})
        redis_client.zadd("test:index", {f"{millisecond:015d}:{record_id}": 0})

    pages, cursors = walk_all(settings, lex_index(), 2)

    assert pages == [["0", "1"], ["2", "3"], ["4"]]
    assert cursors == ["000000000001001.000005:zz", "000000000001001.900000:mm", None]
    # A cursor of the old shape, as a client may hold one across the upgrade, resumes there.
    resumed = run(
        settings, lambda r: list_owned(r, lex_index(), Position("000000000001000:old0"), 9)
    )
    assert [rec["n"] for rec in resumed.records] == ["1", "2", "3", "4"]


def test_a_page_that_ends_the_index_has_no_cursor(
    settings: Settings, redis_client: redis.Redis
) -> None:
    add_oldest_first(redis_client, 4)
    pages, cursors = walk_all(settings, lex_index(), 2)
    assert pages == [["0", "1"], ["2", "3"]]
    assert cursors == [index_member(ms(1001), "r001"), None]


def test_expired_records_leave_the_index_in_one_walk(
    settings: Settings, redis_client: redis.Redis
) -> None:
    ids = add_oldest_first(redis_client, 6)
    for gone in (ids[1], ids[2], ids[4]):
        redis_client.delete(record_key(gone))
    pages, _ = walk_all(settings, lex_index(), 10)
    assert pages == [["0", "3", "5"]]
    assert [id_of_member(m) for m in redis_client.zrange("test:index", 0, -1)] == [
        ids[0],
        ids[3],
        ids[5],
    ]


def test_a_filter_fills_the_page_from_later_batches(
    settings: Settings, redis_client: redis.Redis
) -> None:
    add_oldest_first(redis_client, 50)

    def keep(record: dict[str, str]) -> bool:
        return int(record["n"]) % 10 == 9

    pages, cursors = walk_all(settings, lex_index(), 2, keep=keep)
    assert pages == [["9", "19"], ["29", "39"], ["49"]]
    assert cursors[-1] is None


def test_a_scan_limit_ends_a_page_early_with_a_cursor_that_resumes(
    settings: Settings, redis_client: redis.Redis
) -> None:
    add_oldest_first(redis_client, 30)

    def keep(record: dict[str, str]) -> bool:
        return record["n"] in {"2", "25"}

    pages, cursors = walk_all(settings, lex_index(), 5, keep=keep, scan_limit=10)
    # Each page examines ten entries; the last one cannot tell that nothing follows.
    assert pages == [["2"], [], ["25"], []]
    assert cursors[:3] == [index_member(ms(1000 + n), f"r{n:03d}") for n in (9, 19, 29)]
    assert cursors[3] is None


def test_another_owners_record_in_the_index_is_not_listed(
    settings: Settings, redis_client: redis.Redis
) -> None:
    ids = add_oldest_first(redis_client, 3)
    redis_client.hset(record_key(ids[1]), "owner", "mallory")
    pages, _ = walk_all(settings, lex_index(), 10)
    assert pages == [["0", "2"]]


def test_newest_first_walks_down_through_equal_scores(
    settings: Settings, redis_client: redis.Redis
) -> None:
    """Many records created in the same millisecond: every one listed once, none skipped."""
    scores = {f"j{i:02d}": float(100 + i // 5) for i in range(23)}  # five per timestamp
    for record_id, score in scores.items():
        redis_client.hset(f"test:rec:{record_id}", mapping={"owner": OWNER, "id": record_id})
        redis_client.zadd("test:jobs", {record_id: score})
    index = OwnedIndex("test:jobs", OWNER, record_key, newest_first)
    pages, cursors = walk_all(settings, index, 2)
    expected = sorted(scores, key=lambda i: (scores[i], i), reverse=True)
    assert [i for page in pages for i in page] == expected
    assert all(len(page) == 2 for page in pages[:-1])
    assert cursors[-1] is None


def test_a_newest_first_cursor_carries_its_score_and_resumes_once_its_entry_is_gone(
    settings: Settings, redis_client: redis.Redis
) -> None:
    for i in range(4):
        redis_client.hset(f"test:rec:j{i}", mapping={"owner": OWNER, "id": f"j{i}"})
        redis_client.zadd("test:jobs", {f"j{i}": 100.25 + i})
    index = OwnedIndex("test:jobs", OWNER, record_key, newest_first)

    async def work(client: aioredis.Redis) -> tuple[str | None, list[str], Position | None]:
        first = await list_owned(client, index, None, 2)
        assert first.next_cursor is not None
        await client.zrem("test:jobs", "j2")  # the page's last entry: trimmed, or expired
        after = await position_of(client, index.key, first.next_cursor)
        rest = await list_owned(client, index, after, 9)
        # A cursor of the shape before scores (the id alone) is placed by the index.
        return (
            first.next_cursor,
            [r["id"] for r in rest.records],
            await position_of(client, index.key, "j1"),
        )

    cursor, rest, bare = run(settings, work)
    assert cursor == "102.25:j2"
    assert rest == ["j1", "j0"]
    assert bare == Position("j1", 101.25)


def test_newest_first_passes_a_batch_made_only_of_ties_at_the_cursor(
    settings: Settings, redis_client: redis.Redis
) -> None:
    for i in range(12):
        record_id = f"j{i:02d}"
        redis_client.hset(f"test:rec:{record_id}", mapping={"owner": OWNER, "id": record_id})
        redis_client.zadd("test:jobs", {record_id: 5.0 if i else 1.0})

    async def work(client: aioredis.Redis) -> list[Position]:
        return await newest_first(client, "test:jobs", Position("j01", 5.0), 3)

    assert run(settings, work) == [Position("j00", 1.0)]  # and no more: the index ends


def test_named_fields_read_only_those_and_still_prune_and_check_the_owner(
    settings: Settings, redis_client: redis.Redis
) -> None:
    ids = add_oldest_first(redis_client, 4)
    for record_id in ids:
        redis_client.hset(record_key(record_id), "bulky", "x" * 1000)
    redis_client.delete(record_key(ids[1]))
    redis_client.hset(record_key(ids[2]), "owner", "mallory")
    index = OwnedIndex("test:index", OWNER, record_key, oldest_first, ("owner", "n", "absent"))

    async def work(client: aioredis.Redis) -> Listing:
        return await list_owned(client, index, None, 10)

    listing = run(settings, work)
    assert listing.records == [{"owner": OWNER, "n": "0"}, {"owner": OWNER, "n": "3"}]
    assert ids[1] not in [id_of_member(m) for m in redis_client.zrange("test:index", 0, -1)]
