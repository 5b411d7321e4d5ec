"""Cursor pagination over a per-owner index.

Each owner's records are indexed in a sorted set whose members are `<created ms>:<id>` (all
scores 0), so ZRANGEBYLEX walks them in creation order and a cursor is simply the last member
seen: stable under concurrent inserts and deletes, unlike offsets. Any string of that form is a
valid position, so a cursor needs no signature: it can only select the caller's own records.
"""

from __future__ import annotations

import redis.asyncio as aioredis

MAX_PAGE = 200


def index_member(created_ms: int, record_id: str) -> str:
    return f"{created_ms:015d}:{record_id}"


#: The form of a cursor, for the `cursor` query parameter's schema.
CURSOR_PATTERN = r"^[0-9]{15}:[0-9a-f]{1,64}$"


async def page_ids(
    redis: aioredis.Redis, index_key: str, cursor: str | None, limit: int
) -> tuple[list[str], str | None]:
    """Up to `limit` record ids after `cursor`, and the cursor of the next page (or None)."""
    start = f"({cursor}" if cursor else "-"
    members: list[str] = await redis.zrangebylex(index_key, start, "+", start=0, num=limit + 1)  # type: ignore[assignment]
    more = len(members) > limit
    members = members[:limit]
    ids = [m.split(":", 1)[1] for m in members]
    return ids, members[-1] if more and members else None
