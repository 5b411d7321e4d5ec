"""A job record as clients see it, over REST (`api`) and in WebSocket snapshots (`realtime`)."""

from __future__ import annotations

from typing import Any

from jobcast.jobs.errors import public_error
from jobcast.jobs.records import ended_progress

#: Fields of the record that stay inside the server.
PRIVATE_FIELDS = ("owner", "owner_name", "stored", "idempotency_key", "result")


def public_view(record: dict[str, Any]) -> dict[str, Any]:
    """The record as clients see it: no storage names, numbers as numbers, links."""
    view = {k: v for k, v in record.items() if k not in PRIVATE_FIELDS}
    if "error" in view:
        view["error"] = public_error(view["error"])
    if "progress" in view:  # a job ended without one kept its last estimate in the record
        view["progress"] = ended_progress(view.get("status"), view["progress"])
    for name in ("size", "attempt"):
        view[name] = int(view[name]) if view.get(name) else 0
    for name in ("created_at", "started_at", "finished_at"):
        view[name] = float(view[name]) if view.get(name) else None
    view["links"] = links(record)
    return view


def links(record: dict[str, Any]) -> dict[str, str | None]:
    """Where the job, its result and its file are read. Only a `convert` job writes a file:
    another's artifact link would lead to a 404 `no_artifact`, so it is null."""
    base = f"/jobs/{record['id']}"
    artifact = f"{base}/artifact" if record.get("operation") == "convert" else None
    return {"self": base, "result": f"{base}/result", "artifact": artifact}
