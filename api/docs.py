"""Swagger UI at `/docs` and ReDoc at `/redoc`, served entirely from this api (no CDN).

The pages' scripts and styles come from the installed `fastapi-offline` package (it ships the
Swagger UI and ReDoc bundles), mounted under one prefix, so the docs load on a machine with no
internet and the pages reference nothing but our own origin.

A user pastes a key into Swagger UI's Authorize dialog, so the pages get the browser app's
protections (`api.webapp`): no framing (clickjacking), no referrer, and a Content-Security-Policy
allowing only our own origin. Each page is built once, and its one inline script (Swagger UI's
start-up) is allowed by its hash; styles may be inline, as both bundles set them from script.

ReDoc's bundle draws its maker's logo from their CDN in the sidebar. The policy would block it,
but the browser still reported each blocked load in the console; the bundle is served with that
address replaced by an empty image, which ReDoc drops as it drops a logo that failed to load.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from api.webapp import ASSET_HEADERS, PAGE_HEADERS

#: Where the bundled scripts, styles and icon are served.
ASSETS_PREFIX = "/docs-assets"
#: Swagger UI settings: no call to the public spec validator, and keys kept across reloads.
SWAGGER_PARAMETERS = {"validatorUrl": None, "persistAuthorization": True, "tryItOutEnabled": True}
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
#: The sidebar logo's address in ReDoc's bundle, and what it is replaced with: an image that fails
#: to decode, fetched from nowhere (`data:`, which the policy allows).
REDOCLY_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
NO_LOGO = b"data:,"


def assets_directory() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def content_security_policy(page: str) -> str:
    """Our own origin only, the page's inline scripts by hash; ReDoc's search runs in a worker
    it makes from a blob, and Swagger UI draws its icons from data: URLs. Nothing else: neither
    bundle has a font, and no answer of the api is an image Swagger UI would show from a blob."""
    hashes = "".join(f" 'sha256-{_digest(script)}'" for script in _INLINE_SCRIPT.findall(page))
    return (
        f"default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
        "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


def _digest(script: str) -> str:
    return base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()


class DocsPage:
    """One docs page, built once, answered with the app page's headers and its own CSP."""

    def __init__(self, page: HTMLResponse) -> None:
        self.html = bytes(page.body).decode()
        self.headers = {
            **PAGE_HEADERS,
            "Content-Security-Policy": content_security_policy(self.html),
        }

    def response(self) -> HTMLResponse:
        return HTMLResponse(self.html, headers=self.headers)


def offline_redoc_bundle() -> bytes:
    """ReDoc's bundle with nothing in it that the page would fetch from the network."""
    bundle = (assets_directory() / "redoc.standalone.js").read_bytes()
    return bundle.replace(REDOCLY_LOGO, NO_LOGO)


def serve_redoc_bundle(app: FastAPI) -> str:
    """Serve the offline ReDoc bundle at an address naming its contents (so cached for good);
    returns the address. Add it before the assets' mount, which takes the whole prefix."""
    bundle = offline_redoc_bundle()
    path = f"{ASSETS_PREFIX}/redoc.standalone.{hashlib.sha256(bundle).hexdigest()[:12]}.js"
    headers = {name.decode(): value.decode() for name, value in ASSET_HEADERS}

    @app.get(path, include_in_schema=False)
    async def redoc_bundle() -> Response:
        return Response(bundle, media_type="text/javascript", headers=headers)

    return path


def install_docs(app: FastAPI) -> None:
    """Serve the assets, `/docs` and `/redoc` (create the app with docs_url=redoc_url=None)."""
    redoc_js_url = serve_redoc_bundle(app)
    app.mount(ASSETS_PREFIX, StaticFiles(directory=assets_directory()), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    swagger = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{app.title} API",
        swagger_js_url=f"{ASSETS_PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PREFIX}/favicon.png",
        swagger_ui_parameters=SWAGGER_PARAMETERS,
    )
    redoc = get_redoc_html(
        openapi_url=openapi_url,
        title=f"{app.title} API",
        redoc_js_url=redoc_js_url,
        redoc_favicon_url=f"{ASSETS_PREFIX}/favicon.png",
        with_google_fonts=False,
    )
    swagger_page, redoc_page = DocsPage(swagger), DocsPage(redoc)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return swagger_page.response()

    @app.get("/redoc", include_in_schema=False)
    async def redoc_ui() -> HTMLResponse:
        return redoc_page.response()
