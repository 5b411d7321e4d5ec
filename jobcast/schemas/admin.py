"""Response models of the admin routes (`/admin/keys`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ApiKey(BaseModel):
    """An API key as admins see it: never the key itself (only an HMAC of it is stored)."""

    key_id: str
    principal_id: str
    name: str = Field(description="The principal's name.")
    admin: bool
    created_at: float = Field(description="Unix time, seconds.")
    revoked: bool
