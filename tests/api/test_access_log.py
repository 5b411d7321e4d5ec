"""Access logs: one structured line per request, with request and principal ids, never the key."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx

from tests.api.conftest import MakeKey
from tests.conftest import MakePrincipal, StartApi
from tests.support.processes import Proc, wait_for


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


def access_line(proc: Proc, response: httpx.Response) -> str:
    request_id = response.headers["X-Request-ID"]
    wait_for(lambda: request_id in proc.output(), 10, "the access log line", proc)
    (line,) = [x for x in proc.output().splitlines() if request_id in x]
    return line


def test_a_body_refused_before_the_route_still_names_the_principal_whose_key_was_checked(
    start_api: StartApi, make_principal: MakePrincipal
) -> None:
    # A body FastAPI could not read as JSON was answered 422 before the key was looked at: the
    # access line said principal=-, and a request without any key got that 422, not a 401.
    proc, url = start_api(env={"JOBCAST_MAX_JSON_BODY_BYTES": "1024"})
    key, principal = make_principal("sender")
    json_type = {"Content-Type": "application/json"}
    headers = {"Authorization": f"Bearer {key}", **json_type}

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap is met as the body arrives
        yield b'{"name": "' + b"x" * 2048 + b'"}'

    answers = {
        422: httpx.post(f"{url}/data/", content=b"{bad", headers=headers),
        415: httpx.post(f"{url}/data/", content=b"a=b", headers={**headers, "Content-Type": ""}),
        413: httpx.post(f"{url}/data/", content=chunks(), headers=headers),
    }
    for status, answer in answers.items():
        assert answer.status_code == status, answer.text
        assert f" {status} " in access_line(proc, answer)
        assert f" principal={principal} " in access_line(proc, answer)
        assert answer.headers["RateLimit-Remaining"]  # it cost the principal's budget

    anonymous = httpx.post(f"{url}/data/", content=b"{bad", headers=json_type)
    assert anonymous.status_code == 401, anonymous.text
    wrong = {**headers, "Authorization": "Bearer jc_000000000000_nope"}
    assert httpx.post(f"{url}/data/", content=b"{bad", headers=wrong).status_code == 401


def test_a_passing_liveness_probe_writes_no_access_line_unless_asked(
    start_api: StartApi,
) -> None:
    # A prober hits /healthz every few seconds on every api process: a line each was noise and
    # a fifth of the probe's cost. A failing probe, and every other request, is still logged.
    quiet, quiet_url = start_api()
    loud, loud_url = start_api(env={"JOBCAST_LOG_PROBES": "1"})
    for proc, url in ((quiet, quiet_url), (loud, loud_url)):
        probe = httpx.get(f"{url}/healthz")
        assert probe.status_code == 200
        assert probe.headers["X-Request-ID"]
        assert probe.headers["X-Process-Time"]
        missing = httpx.get(f"{url}/healthz/")  # no such route: not a passing probe
        assert " 404 " in access_line(proc, missing)  # lines are written in order
        logged = probe.headers["X-Request-ID"] in proc.output()
        assert logged == (proc is loud)
