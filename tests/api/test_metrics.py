"""`GET /metrics` counts requests as they happen."""

from __future__ import annotations

import re

import httpx

from tests.conftest import StartApi


def _count(text: str, route: str, status: str) -> float:
    labels = f'method="GET",route="{re.escape(route)}",status="{status}"'
    pattern = rf"jobcast_http_requests_total\{{{labels}\}} (\S+)"
    match = re.search(pattern, text)
    return float(match.group(1)) if match else 0.0


def test_request_counter_moves_with_requests(start_api: StartApi) -> None:
    _, url = start_api()
    before = _count(httpx.get(f"{url}/metrics").text, "/data/", "401")
    for _ in range(3):
        httpx.get(f"{url}/data/")
    text = httpx.get(f"{url}/metrics").text
    assert _count(text, "/data/", "401") == before + 3
    assert "jobcast_http_request_duration_seconds_bucket" in text
    assert "jobcast_http_requests_in_flight" in text
