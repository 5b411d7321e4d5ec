"""The answer of `GET /me`: who a key acts for, and the limits that principal works within."""

from __future__ import annotations

from pydantic import BaseModel, Field

NO_CAP = " 0: no cap."


class Limits(BaseModel):
    """Each limit as this deployment sets it (the api's settings), the same for every principal:
    a client can pace itself by them instead of learning them from 429s."""

    submit_per_minute: int = Field(description="Submit requests (jobs, orders, data writes).")
    submit_burst: int = Field(description="Submit requests at once before the rate applies.")
    read_per_minute: int = Field(description="Read requests (GET routes).")
    read_burst: int = Field(description="Read requests at once before the rate applies.")
    orders_per_minute: int = Field(description="Orders through `POST /orders/batch`.")
    orders_burst: int = Field(description="Orders at once in batches before the rate applies.")
    max_upload_bytes: int = Field(description="Largest file one upload may send.")
    stored_bytes: int = Field(description="Bytes kept stored: uploads, converted files." + NO_CAP)
    concurrent_uploads: int = Field(description="Uploads streaming at once." + NO_CAP)
    active_jobs: int = Field(description="File jobs queued or running." + NO_CAP)
    running_file_jobs: int = Field(
        description="File jobs running at once while another principal's wait." + NO_CAP
    )
    open_orders: int = Field(description="Orders open at once." + NO_CAP)
    data_items: int = Field(description="Data items kept." + NO_CAP)
    ws_connections: int = Field(description="WebSocket connections open at once.")
    ws_subscriptions: int = Field(description="Channels one WebSocket may subscribe to.")


class Me(BaseModel):
    """The principal the request's key belongs to."""

    id: str = Field(description="The principal's id: the owner of its jobs, orders and items.")
    name: str
    admin: bool = Field(description="May list and revoke keys (`/admin/keys`).")
    key_id: str = Field(description="The key this request authenticated with.")
    limits: Limits
