"""`JOBCAST_LOG_JSON=1`: every line an api and a worker write is a JSON object, the lines of
uvicorn and Celery as well as Jobcast's own, from start to stop."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from jobcast.client import Client
from jobcast.client.errors import JobFailedError
from tests.conftest import MakePrincipal, StartApi, StartWorker
from tests.support.processes import Proc

JSON_LOGS = {"JOBCAST_LOG_JSON": "1"}


def entries(proc: Proc) -> list[dict[str, Any]]:
    """Each line of the process's log as JSON; fails on the first line that is not."""
    lines = [line for line in proc.output().splitlines() if line.strip()]
    assert lines, f"{proc.name} logged nothing"
    parsed = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            pytest.fail(f"{proc.name} logged a line that is not JSON: {line!r}")
        assert isinstance(entry, dict), line
        parsed.append(entry)
    return parsed


@pytest.mark.slow
def test_every_line_of_an_api_and_a_worker_is_json(
    start_api: StartApi, start_worker: StartWorker, make_principal: MakePrincipal
) -> None:
    worker = start_worker(env=JSON_LOGS)
    api, url = start_api(env=JSON_LOGS)
    key, _ = make_principal("json-logs")

    table = b"city,amount\nParis,10\nLyon,5\n"
    with Client(url, key) as client:
        job = client.submit_file(io.BytesIO(table))
        client.wait(job.id, timeout=60)  # raises unless it succeeded
        # A failed job: the worker's own line about it.
        failing = client.submit_file(
            io.BytesIO(table), "aggregate", group_by=["nope"], metrics={"amount": ["sum"]}
        )
        with pytest.raises(JobFailedError):
            client.wait(failing.id, timeout=60)
    # uvicorn's own line for a refused WebSocket (the Origin check): "WebSocket /ws" 403
    ws_url = url.replace("http", "ws", 1) + "/ws"
    with pytest.raises(InvalidStatus), connect(ws_url, origin="http://evil.example"):  # type: ignore[arg-type]
        pass
    api.stop()
    worker.stop()

    api_loggers = {entry["logger"] for entry in entries(api)}
    assert {"uvicorn.error", "jobcast.access"} <= api_loggers
    worker_entries = entries(worker)
    worker_loggers = {entry["logger"] for entry in worker_entries}
    assert any(name.startswith("celery.") for name in worker_loggers), worker_loggers
    assert any(name.startswith("jobcast.files") for name in worker_loggers), worker_loggers
    assert any("Warm shutdown" in entry["message"] for entry in worker_entries)
