"""Data items in Redis: a hash per item plus a per-owner index, changed only atomically."""

from __future__ import annotations

import json
import re
import secrets
import time
from datetime import UTC, datetime

import redis.asyncio as aioredis

from jobcast import scripts
from jobcast.keys import Principal
from jobcast.owned_index import (
    OwnedIndex,
    Position,
    id_of_member,
    index_member,
    list_owned,
    oldest_first,
)
from jobcast.rediskeys import data_item_key, data_of_key
from jobcast.schemas.data import DataCreate, DataItem, DataUpdate

#: Item ids as `create` makes them (96 random bits in hex).
ITEM_ID = re.compile(r"[0-9a-f]{24}")
#: A page cursor is the owner-index member of the last item seen (`jobcast.owned_index`). Any
#: string of that form is a valid position, so a cursor needs no signature: it can only select
#: the caller's own items.
#: (Members written before nanoseconds were added have none: `<ms>:<id>`.)
CURSOR_PATTERN = r"^[0-9]{15}(\.[0-9]{6})?:[0-9a-f]{1,64}$"


def _now() -> tuple[int, str]:
    """Now in nanoseconds (the index orders by them) and as the record's stamp (to the ms)."""
    ns = time.time_ns()
    return ns, datetime.fromtimestamp(ns // 1_000_000 / 1000, UTC).isoformat()


def to_item(record: dict[str, str]) -> DataItem:
    return DataItem(
        id=record["id"],
        name=record["name"],
        value=float(record["value"]),
        tags=json.loads(record["tags"]),
        created_at=datetime.fromisoformat(record["created_at"]),
        updated_at=datetime.fromisoformat(record["updated_at"]),
    )


async def create(
    redis: aioredis.Redis, owner: Principal, body: DataCreate, max_items: int
) -> DataItem | None:
    """A new item of the owner's, or None when the owner already keeps `max_items` (0: no cap)."""
    item_id = secrets.token_hex(12)  # 96 random bits: ids never collide in practice
    ns, stamp = _now()
    member = index_member(ns, item_id)
    record = {
        "id": item_id,
        "owner": owner.id,
        "name": body.name,
        "value": repr(body.value),
        "tags": json.dumps(body.tags),
        "created_at": stamp,
        "updated_at": stamp,
        "index_member": member,
    }
    # The cap's check and the writes are one script (`jobcast/lua/data_create.lua`): creates
    # racing on several api processes never pass it.
    keys = [data_item_key(item_id), data_of_key(owner.id)]
    fields = [word for pair in record.items() for word in pair]
    if not await scripts.run_async(redis, "data_create", keys, [max_items, member, *fields]):
        return None
    return to_item(record)


async def update(redis: aioredis.Redis, owner: Principal, item_id: str, body: DataUpdate) -> bool:
    changes: list[str] = []
    for name in sorted(body.model_fields_set):
        value = getattr(body, name)
        changes += [
            name,
            json.dumps(value) if name == "tags" else str(value) if name == "name" else repr(value),
        ]
    _, stamp = _now()
    # Only if the item still exists and is the owner's: a PATCH racing a DELETE must not bring
    # back a half-written item (`jobcast/lua/data_patch.lua`).
    keys = [data_item_key(item_id)]
    done = await scripts.run_async(redis, "data_patch", keys, [owner.id, stamp, *changes])
    return bool(done)


async def delete(redis: aioredis.Redis, owner: Principal, item_id: str) -> bool:
    keys = [data_item_key(item_id), data_of_key(owner.id)]
    done = await scripts.run_async(redis, "data_delete", keys, [owner.id])
    return bool(done)


async def list_page(
    redis: aioredis.Redis, owner: Principal, cursor: str | None, limit: int
) -> tuple[list[DataItem], str | None]:
    """The owner's items after `cursor`, oldest first, and the next page's cursor."""
    index = OwnedIndex(data_of_key(owner.id), owner.id, _member_key, oldest_first)
    listing = await list_owned(redis, index, Position(cursor) if cursor else None, limit)
    return [to_item(r) for r in listing.records], listing.next_cursor


def _member_key(member: str) -> str:
    return data_item_key(id_of_member(member))
