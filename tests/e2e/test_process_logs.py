"""What an api and a worker log: with `JOBCAST_LOG_JSON=1` every line a JSON object, the lines
of uvicorn and Celery as well as Jobcast's own, from start to stop; at `JOBCAST_LOG_LEVEL`."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from jobcast.client import Client
from jobcast.client.errors import JobFailedError
from tests.conftest import MakePrincipal, StartApi, StartWorker
from tests.support.processes import Proc, started_together, stop_together

JSON_LOGS = {"JOBCAST_LOG_JSON": "1"}
#: README's fields of every line, and those some lines add: the access line's, the context
#: Jobcast's own lines carry, and Celery's `data` (a task's id and name) on its task lines.
LINE_FIELDS = {"ts", "time", "level", "logger", "message", "pid", "exc"}
ACCESS_FIELDS = {"request_id", "principal_id", "method", "path", "status", "duration_ms"}
CONTEXT_FIELDS = {"close_code", "session", "job_id", "code", "error_message", "data"}


def entries(proc: Proc) -> list[dict[str, Any]]:
    """Each line of the process's log as JSON; fails on the first line that is not."""
    lines = [line for line in proc.output().splitlines() if line.strip()]
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
    started: dict[str, Any] = {}
    started_together(
        lambda: started.setdefault("worker", start_worker(env=JSON_LOGS)),
        lambda: started.setdefault("api", start_api(env=JSON_LOGS)),
    )
    worker, (api, url) = started["worker"], started["api"]
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
    stop_together(api, worker)

    api_loggers = {entry["logger"] for entry in entries(api)}
    assert {"uvicorn.error", "jobcast.access"} <= api_loggers
    worker_entries = entries(worker)
    worker_loggers = {entry["logger"] for entry in worker_entries}
    assert any(name.startswith("celery.") for name in worker_loggers), worker_loggers
    assert any(name.startswith("jobcast.files") for name in worker_loggers), worker_loggers
    assert any("Warm shutdown" in entry["message"] for entry in worker_entries)
    for entry in entries(api) + worker_entries:
        # uvicorn's `color_message`, ANSI codes and all, leaked into every one of its lines.
        assert not set(entry) - LINE_FIELDS - ACCESS_FIELDS - CONTEXT_FIELDS, entry


@pytest.mark.slow
def test_the_log_level_setting_quiets_and_opens_api_and_worker_logs(
    start_api: StartApi, start_worker: StartWorker
) -> None:
    quiet = {**JSON_LOGS, "JOBCAST_LOG_LEVEL": "WARNING"}
    loud = {**JSON_LOGS, "JOBCAST_LOG_LEVEL": "debug"}
    started: dict[str, Any] = {}
    started_together(
        lambda: started.setdefault("api", start_api(env=quiet)),
        lambda: started.setdefault("quiet", start_worker(env=quiet, queues="orders")),
        lambda: started.setdefault("loud", start_worker(env=loud, queues="orders")),
        lambda: started.setdefault(
            "quiet text", start_worker(env={"JOBCAST_LOG_LEVEL": "WARNING"}, queues="orders")
        ),
    )
    api, url = started["api"]
    assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    quiet_worker, loud_worker = started["quiet"], started["loud"]
    quiet_text_worker = started["quiet text"]
    stop_together(api, quiet_worker, loud_worker, quiet_text_worker)

    assert not [e for e in entries(api) if e["level"] in ("DEBUG", "INFO")]
    assert not [e for e in entries(quiet_worker) if e["level"] in ("DEBUG", "INFO")]
    assert " ready." not in quiet_text_worker.output()  # Celery's INFO line, in its format
    assert "Warm shutdown" in quiet_text_worker.output()  # printed by Celery, not logged
    debug = [e for e in entries(loud_worker) if e["level"] == "DEBUG"]
    assert debug  # README: the broker's full error is at DEBUG on jobcast.worker.broker


@pytest.mark.slow
def test_an_api_and_a_worker_name_a_misspelt_setting_once(
    start_api: StartApi, start_worker: StartWorker
) -> None:
    misspelt = {"JOBCAST_LOG_LEVL": "DEBUG", "JOBCAST_URL": "http://elsewhere.example"}
    started: dict[str, Any] = {}
    started_together(
        lambda: started.setdefault("api", start_api(env=misspelt)[0]),
        lambda: started.setdefault("worker", start_worker(env=misspelt, queues="orders")),
    )
    api, worker = started["api"], started["worker"]
    stop_together(api, worker)
    said = (
        "JOBCAST_LOG_LEVL is not a Jobcast setting and is ignored; did you mean JOBCAST_LOG_LEVEL?"
    )
    for proc in (api, worker):
        assert proc.output().count(said) == 1, proc.output()
        assert "JOBCAST_URL is not" not in proc.output()  # the client's, known


def test_an_api_stopped_by_sigterm_logs_its_shutdown_to_the_last_line(
    start_api: StartApi,
) -> None:
    # `jobcast up` stops the api with SIGTERM, which uvicorn re-raises once it has shut down:
    # a line held for the end of the event loop's turn died with the process.
    api, _ = start_api()
    api.stop()
    assert api.popen.returncode is not None
    log = api.output()
    assert "Application shutdown complete." in log, log[-2000:]
    assert "Finished server process" in log, log[-2000:]
