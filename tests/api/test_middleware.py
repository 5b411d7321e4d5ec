"""What every response carries, and what the edge refuses before a route runs."""

from __future__ import annotations

import httpx
import pytest
from fastapi.responses import JSONResponse

from jobcast.settings import Settings
from tests.api.conftest import MakeClient, MakeKey
from tests.conftest import SharedStack, module_stack

ALLOWED = "https://app.example"


#: One api for the module; each test makes its own principals.
stack = module_stack(api_env={"JOBCAST_CORS_ORIGINS": f'["{ALLOWED}"]'})


@pytest.fixture
def settings(stack: SharedStack) -> Settings:
    return stack.settings


@pytest.fixture
def url(stack: SharedStack) -> str:
    return stack.url


def test_every_response_has_process_time_and_request_id(url: str) -> None:
    for response in (
        httpx.get(f"{url}/healthz"),
        httpx.get(f"{url}/data/"),
        httpx.get(f"{url}/nope"),
    ):
        assert float(response.headers["X-Process-Time"]) >= 0
        assert len(response.headers["X-Request-ID"]) >= 8


def test_a_sane_request_id_is_kept(url: str) -> None:
    response = httpx.get(f"{url}/healthz", headers={"X-Request-ID": "trace-123"})
    assert response.headers["X-Request-ID"] == "trace-123"


def test_cors_allows_only_listed_origins(url: str) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    ok = httpx.options(f"{url}/data/", headers={"Origin": ALLOWED, **preflight})
    assert ok.headers["access-control-allow-origin"] == ALLOWED
    assert ok.headers["access-control-allow-credentials"] == "true"
    refused = httpx.options(f"{url}/data/", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in refused.headers
    # In the one error shape, as every 4xx (it was plain text: "Disallowed CORS origin").
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "cors_refused"
    assert "(origin)" in error["message"]
    assert "JOBCAST_CORS_ORIGINS" in error["message"]


def test_json_body_over_the_cap_is_413(
    url: str, make_key: MakeKey, make_client: MakeClient
) -> None:
    client = make_client(url, make_key())
    body = b'{"name": "' + b"x" * 2_000_000 + b'", "value": 1}'
    response = client.post("/data/", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert client.get("/data/").json()["items"] == []


def test_unknown_route_uses_the_error_shape(url: str) -> None:
    response = httpx.get(f"{url}/no/such/route")
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"code", "message", "details"}


def test_oversized_headers_and_urls_are_refused(url: str) -> None:
    big_header = httpx.get(f"{url}/healthz", headers={"X-Big": "a" * 40_000})
    assert big_header.status_code == 431
    assert big_header.json()["error"]["code"] == "headers_too_large"
    long_url = httpx.get(f"{url}/healthz", params={"q": "a" * 10_000})
    assert long_url.status_code == 414
    # Written as every other error body is (FastAPI's JSONResponse): one client's byte-for-byte
    # comparison or log grep should not meet two spellings of the same JSON.
    for refused in (big_header, long_url):
        assert refused.content == JSONResponse(refused.json()).body
