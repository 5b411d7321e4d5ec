"""Access logs: one structured line per request, with request and principal ids, never the key."""

from __future__ import annotations

import json

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
    assert entry["status"] == 200
    assert entry["principal_id"].startswith("p_")
    assert key not in proc.output()
    # The secret is url-safe base64 and may itself contain "_": split only the prefix and id off.
    secret = key.split("_", 2)[2]
    assert secret not in proc.output()
