"""Who is calling: API keys from `Authorization: Bearer <key>` or `X-API-Key`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.deps import RedisDep, SettingsDep
from api.errors import ApiError
from jobcast.keys import Principal, authenticate

UNAUTHENTICATED = ApiError(
    401,
    "unauthenticated",
    "An API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`.",
    headers={"WWW-Authenticate": "Bearer"},
)


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key") or None


async def require_principal(request: Request, redis: RedisDep, settings: SettingsDep) -> Principal:
    key = presented_key(request)
    if key is None:
        raise UNAUTHENTICATED
    principal = await authenticate(redis, settings.secret("key_secret"), key)
    if principal is None:
        raise ApiError(401, "invalid_key", "The API key is unknown or revoked.",
                       headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    request.state.principal = principal
    return principal


async def require_admin(principal: Annotated[Principal, Depends(require_principal)]) -> Principal:
    if not principal.admin:
        raise ApiError(403, "forbidden", "This route needs an admin key.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]
AdminPrincipal = Annotated[Principal, Depends(require_admin)]
