"""Liveness and readiness, against a real uvicorn process."""

from __future__ import annotations

import httpx

from tests.conftest import StartApi, StartWorker
from tests.support.processes import wait_for


def test_readyz_is_503_with_reason_until_both_queues_have_workers(
    start_api: StartApi, start_worker: StartWorker
) -> None:
    _, url = start_api()
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}

    not_ready = httpx.get(f"{url}/readyz")
    assert not_ready.status_code == 503
    assert "files" in not_ready.json()["error"]["message"]

    start_worker(queues="files,orders")
    wait_for(lambda: httpx.get(f"{url}/readyz").status_code == 200, 20, "readyz 200")
