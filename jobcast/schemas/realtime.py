"""Response model of `POST /ws/ticket`.

The WebSocket protocol itself is described in the README.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class WsTicket(BaseModel):
    ticket: str = Field(description="Open `/ws?ticket=<ticket>`; it works once.")
    expires_in: int = Field(description="Seconds it stays valid.")
