"""Access logs: one structured line per request, with request and principal ids, never the key."""

from __future__ import annotations

import json
import re

import httpx

from tests.api.conftest import MakeKey
from tests.conftest import StartApi
from tests.support.processes import wait_for


def test_json_access_log_names_request_and_principal_but_never_the_key(
    start_api: StartApi, make_key: MakeKey
) -> None:
    proc, url = start_api(env={"JOBCAST_LOG_JSON": "1"})
    key = make_key("logged")
    response = httpx.get(f"{url}/data/", headers={"Authorization": f"Bearer {key}"})
    request_id = response.headers["X-Request-ID"]

    wait_for(lambda: request_id in proc.output(), 10, "the access log line", proc)
    lines = [json.loads(line) for line in proc.output().splitlines() if request_id in line]
    entry = next(line for line in lines if line.get("logger") == "jobcast.access")
    assert entry["path"] == "/data/"
    assert entry["method"] == "GET"
    assert entry["status"] == 200
    assert entry["duration_ms"] >= 0
    assert entry["pid"] == proc.popen.pid  # which of several api processes answered
    assert len(lines) == 1
    assert "HTTP/1.1" not in proc.output()  # uvicorn's own access line is off
    assert entry["principal_id"].startswith("p_")
    assert key not in proc.output()
    # The secret is url-safe base64 and may itself contain "_": split only the prefix and id off.
    secret = key.split("_", 2)[2]
    assert secret not in proc.output()


def test_text_access_log_is_one_line_per_request_with_ids_and_an_escaped_path(
    start_api: StartApi, make_key: MakeKey
) -> None:
    proc, url = start_api()
    key = make_key("logged")
    headers = {"Authorization": f"Bearer {key}"}
    listed = httpx.get(f"{url}/data/", headers=headers)
    forged = httpx.get(f"{url}/data/x%0aINFO%20forged%1b[31m", headers=headers)

    for response in (listed, forged):
        request_id = response.headers["X-Request-ID"]
        wait_for(lambda: request_id in proc.output(), 10, "the access log line", proc)  # noqa: B023
        (line,) = [x for x in proc.output().splitlines() if request_id in x]
        assert f"request_id={request_id}" in line
        assert " principal=p_" in line
        assert line.endswith(f" pid={proc.popen.pid}")
        assert f" {response.status_code} " in line
        assert re.search(r" \d+\.\dms ", line)
    assert "GET /data/ 200 " in proc.output()
    assert "GET /data/x\\x0aINFO forged\\x1b[31m 404 " in proc.output()
    assert "HTTP/1.1" not in proc.output()  # uvicorn's own access line is off
