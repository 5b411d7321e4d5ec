"""The browser app: `index.html` at `/`, its modules and styles under `/static/{version}/`.

Plain files written here, no build step: the version in the asset prefix is a hash of the
assets' contents, taken at startup, so browsers may cache them for a year and still never run
a stale module after an upgrade (only `/` itself is revalidated on every visit).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

WEB_DIR = Path(__file__).parent / "web"
STATIC_DIR = WEB_DIR / "static"

#: Only our own origin, for everything: no CDN, no inline script or style, no framing. 'self'
#: in connect-src covers the same-origin ws:// and wss:// (CSP Level 3).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# X-Content-Type-Options: nosniff comes with every answer of the api (`api.middleware`).
ASSET_HEADERS = [(b"cache-control", b"public, max-age=31536000, immutable")]


def asset_version(directory: Path) -> str:
    """A short hash of every asset's path and bytes: changes whenever any asset does."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class CachedAssets:
    """Static files with long-lived cache headers: their URL changes when they do."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                message = {**message, "headers": [*message.get("headers", []), *ASSET_HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI) -> None:
    """Serve the app at `/` and its assets under `/static/{version}/`."""
    version = asset_version(STATIC_DIR)
    prefix = f"/static/{version}"
    page = (WEB_DIR / "index.html").read_text().replace("{{static}}", prefix)
    app.mount(prefix, CachedAssets(StaticFiles(directory=STATIC_DIR)), name="static")

    # HEAD too, as uptime checks probe: answered as GET, and uvicorn sends no body.
    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(page, headers=PAGE_HEADERS)
