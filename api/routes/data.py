"""Data items: the seed's `/data/` API, owned, validated and paginated."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api import data_store
from api.auth import CurrentPrincipal, CurrentReader
from api.deps import RedisDep, SettingsDep, cursor_query
from api.errors import ApiError, not_found
from api.openapi_errors import AUTHENTICATED, errors
from api.openapi_headers import LOCATED
from api.ownership import load_owned, require_id
from jobcast import rediskeys
from jobcast.owned_index import MAX_PAGE
from jobcast.schemas.data import DataCreate, DataItem, DataPage, DataUpdate

router = APIRouter(prefix="/data", tags=["data"])


# `/data/` is the seed's path; `/data` is answered too (a redirect would lose the body in many
# clients, and curl prints nothing for it).
@router.post("", status_code=status.HTTP_201_CREATED, include_in_schema=False)
@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    summary="Create a data item",
    responses={
        201: LOCATED,
        **errors(
            *AUTHENTICATED,
            "bad_request",
            "too_many_data_items",
            "payload_too_large",
            "validation_error",
        ),
    },
)
async def create_item(
    body: DataCreate,
    principal: CurrentPrincipal,
    redis: RedisDep,
    settings: SettingsDep,
    response: Response,
) -> DataItem:
    """Create a data item owned by the caller (at most `JOBCAST_QUOTA_DATA_ITEMS` each)."""
    item = await data_store.create(redis, principal, body, settings.quota_data_items)
    if item is None:
        raise too_many_items(settings.quota_data_items)
    response.headers["Location"] = f"/data/{item.id}"
    return item


def too_many_items(limit: int) -> ApiError:
    return ApiError(
        409,
        "too_many_data_items",
        f"You keep {limit} data items, the most allowed (JOBCAST_QUOTA_DATA_ITEMS); "
        "delete some first.",
        {"max_items": limit},
    )


@router.get("", include_in_schema=False)
@router.get(
    "/", summary="List your data items", responses=errors(*AUTHENTICATED, "validation_error")
)
async def list_items(
    principal: CurrentPrincipal,
    redis: RedisDep,
    cursor: Annotated[str | None, *cursor_query(data_store.CURSOR_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> DataPage:
    """The caller's items, oldest first; follow `next_cursor` for more."""
    items, next_cursor = await data_store.list_page(redis, principal, cursor, limit)
    return DataPage(items=items, next_cursor=next_cursor)


@router.get("/{item_id}", summary="Get a data item", responses=errors(*AUTHENTICATED, "not_found"))
async def get_item(item_id: str, reader: CurrentReader) -> DataItem:
    """One of your items; another principal's is 404, as if it did not exist."""
    record = await reader.load(item_id, data_store.ITEM_ID, rediskeys.data_item_key, "data item")
    return data_store.to_item(record)


@router.patch(
    "/{item_id}",
    summary="Change a data item",
    responses=errors(
        *AUTHENTICATED, "bad_request", "not_found", "payload_too_large", "validation_error"
    ),
)
async def update_item(
    item_id: str, body: DataUpdate, principal: CurrentPrincipal, redis: RedisDep
) -> DataItem:
    """Change some fields of an item; the rest stay as they are."""
    require_id(item_id, data_store.ITEM_ID, "data item")
    if not await data_store.update(redis, principal, item_id, body):
        raise not_found("data item")
    record = await load_owned(redis, rediskeys.data_item_key(item_id), principal, "data item")
    return data_store.to_item(record)


# Returns None, not a Response of its own: FastAPI's carries the budget's headers (`api.auth`).
@router.delete(
    "/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a data item",
    response_class=Response,
    responses=errors(*AUTHENTICATED, "not_found"),
)
async def delete_item(item_id: str, principal: CurrentPrincipal, redis: RedisDep) -> None:
    """Delete one of your items."""
    require_id(item_id, data_store.ITEM_ID, "data item")
    if not await data_store.delete(redis, principal, item_id):
        raise not_found("data item")
