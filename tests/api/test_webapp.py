"""The browser app's serving (page, assets, headers) in process, `GET /market` on a real api,
and which origins may open a WebSocket."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import redis

from api.app import create_app
from api.routes.ws import origin_allowed
from api.webapp import CONTENT_SECURITY_POLICY
from jobcast.keys import create_key
from jobcast.settings import Settings
from tests.conftest import StartApi


def call(settings: Settings, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request to the app through ASGI, no server and no lifespan: the page, its assets and
    CORS preflights need neither Redis nor the push layer."""
    app = create_app(settings)

    async def request() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(request())


def test_the_page_is_served_at_the_root_with_a_same_origin_policy(settings: Settings) -> None:
    page = call(settings, "GET", "/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert page.headers["cache-control"] == "no-cache"
    assert "<title>Jobcast</title>" in page.text
    assets = re.findall(r'(?:src|href)="(/static/[0-9a-f]{12}/[\w.]+)"', page.text)
    assert {a.rsplit("/", 1)[1] for a in assets} >= {"main.js", "app.css", "icon.svg"}
    assert "http" not in CONTENT_SECURITY_POLICY  # nothing but our own origin


def test_assets_live_under_one_versioned_prefix_and_are_cacheable(settings: Settings) -> None:
    page = call(settings, "GET", "/")
    prefix = re.search(r'src="(/static/[0-9a-f]{12})/main\.js"', page.text)
    assert prefix is not None
    module = call(settings, "GET", f"{prefix.group(1)}/live.js")
    assert module.status_code == 200
    assert "javascript" in module.headers["content-type"]
    assert module.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert call(settings, "GET", "/static/000000000000/live.js").status_code == 404


def test_market_lists_every_symbol_with_its_rules(
    settings: Settings, redis_client: redis.Redis, start_api: StartApi
) -> None:
    _, url = start_api()
    key, _ = create_key(redis_client, settings.secret("key_secret"), "trader")
    answer = httpx.get(f"{url}/market", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200
    symbols = {s["symbol"]: s for s in answer.json()["symbols"]}
    assert list(symbols) == ["BTC-USD", "ETH-USD", "SOL-USD", "ACME"]
    assert symbols["ACME"] == {
        "symbol": "ACME",
        "tick_size": "0.01",
        "lot_size": 10,
        "min_quantity": 10,
        "max_quantity": 1_000_000,
        "max_notional": "100000000",
    }
    assert httpx.get(f"{url}/market").status_code == 401


def test_the_apps_own_origin_may_always_open_a_websocket() -> None:
    production = Settings(dev=False, _env_file=None)  # type: ignore[call-arg]
    assert production.cors_origin_regex is None
    assert origin_allowed("https://jobs.example", "jobs.example", production)
    assert origin_allowed(None, "jobs.example", production)  # not a browser
    assert not origin_allowed("https://evil.example", "jobs.example", production)
    assert not origin_allowed("http://localhost:5173", "jobs.example", production)


def test_dev_mode_allows_localhost_dev_servers_unless_origins_are_listed() -> None:
    dev = Settings(dev=True, _env_file=None)  # type: ignore[call-arg]
    for origin in ("http://localhost:5173", "http://127.0.0.1:3000", "http://localhost"):
        assert origin_allowed(origin, "127.0.0.1:8000", dev), origin
    assert not origin_allowed("http://localhost.evil.example", "127.0.0.1:8000", dev)
    assert not origin_allowed("https://evil.example", "127.0.0.1:8000", dev)
    listed = Settings(dev=True, cors_origins=["https://app.example"], _env_file=None)  # type: ignore[call-arg]
    assert listed.cors_origin_regex is None
    assert not origin_allowed("http://localhost:5173", "127.0.0.1:8000", listed)


def test_dev_mode_cors_answers_a_localhost_preflight(settings: Settings) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Origin": "http://localhost:5173"}
    answer = call(settings, "OPTIONS", "/jobs", headers=preflight)
    assert answer.headers["access-control-allow-origin"] == "http://localhost:5173"
