"""`GET /me`: who the key acts for and within which limits (a client's check of its key)."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth import CurrentPrincipal
from api.deps import SettingsDep
from api.openapi_errors import AUTHENTICATED, errors
from jobcast.schemas.me import Limits, Me
from jobcast.settings import Settings

router = APIRouter(tags=["me"])


@router.get(
    "/me", summary="Who your key acts for, and its limits", responses=errors(*AUTHENTICATED)
)
async def me(principal: CurrentPrincipal, settings: SettingsDep) -> Me:
    """The principal your key belongs to and the limits it works within (0: no cap)."""
    return Me(
        id=principal.id,
        name=principal.name,
        admin=principal.admin,
        key_id=principal.key_id,
        limits=limits_of(settings),
    )


def limits_of(settings: Settings) -> Limits:
    return Limits(
        submit_per_minute=settings.rate_submit_per_minute,
        submit_burst=settings.rate_submit_burst,
        read_per_minute=settings.rate_read_per_minute,
        read_burst=settings.rate_read_burst,
        orders_per_minute=settings.rate_orders_per_minute,
        orders_burst=settings.rate_orders_burst,
        max_upload_bytes=settings.upload_max_bytes,
        stored_bytes=settings.quota_stored_bytes,
        concurrent_uploads=settings.quota_concurrent_uploads,
        active_jobs=settings.quota_active_jobs,
        running_file_jobs=settings.files_max_running_per_principal,
        open_orders=settings.quota_open_orders,
        data_items=settings.quota_data_items,
        ws_connections=settings.ws_max_connections_per_principal,
        ws_subscriptions=settings.ws_max_subscriptions,
    )
