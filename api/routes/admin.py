"""Key management for admins: list and revoke keys (creating them is `jobcast keys create`)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.auth import AdminPrincipal
from api.deps import RedisDep, StateDep
from api.errors import ApiError
from api.openapi_errors import AUTHENTICATED, errors
from api.ownership import require_id
from jobcast.key_shape import KEY_ID
from jobcast.keys import audit, list_keys_async, revoke_key_async
from jobcast.schemas.admin import ApiKey

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/keys", summary="List all API keys", responses=errors(*AUTHENTICATED, "forbidden"))
async def list_api_keys(admin: AdminPrincipal, redis: RedisDep) -> list[ApiKey]:
    """Every key with its principal; never the key itself (only a hash is stored)."""
    return [ApiKey.model_validate(k, from_attributes=True) for k in await list_keys_async(redis)]


# Returns None, not a Response of its own: FastAPI's carries the budget's headers (`api.auth`).
@router.delete(
    "/keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API key",
    response_class=Response,
    responses=errors(*AUTHENTICATED, "forbidden", "not_found"),
)
async def revoke_api_key(key_id: str, admin: AdminPrincipal, state: StateDep) -> None:
    """Revoke a key: requests with it answer 401 from now on, its WebSockets are closed (4001,
    reason `key_revoked`) and its unused tickets are refused."""
    require_id(key_id, KEY_ID, "key")
    known = await revoke_key_async(state.redis, key_id)
    if known is None:
        raise ApiError(404, "not_found", "No key with that id.")
    if not known.revoked:
        audit.info(
            "API key %s revoked by admin %s (through the api)",
            key_id,
            admin.id,
            extra={"key_id": key_id, "by": admin.id},
        )
    state.key_cache.evict(key_id)  # at once here; other processes on the pub/sub message
