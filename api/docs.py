"""Swagger UI at `/docs` and ReDoc at `/redoc`, served entirely from this api (no CDN).

The pages' scripts and styles come from the installed `fastapi-offline` package (it ships the
Swagger UI and ReDoc bundles), mounted under one prefix, so the docs load on a machine with no
internet and the pages reference nothing but our own origin.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

#: Where the bundled scripts, styles and icon are served.
ASSETS_PREFIX = "/docs-assets"
#: Swagger UI settings: no call to the public spec validator, and keys kept across reloads.
SWAGGER_PARAMETERS = {"validatorUrl": None, "persistAuthorization": True, "tryItOutEnabled": True}


def assets_directory() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def install_docs(app: FastAPI) -> None:
    """Serve the assets, `/docs` and `/redoc` (create the app with docs_url=redoc_url=None)."""
    app.mount(ASSETS_PREFIX, StaticFiles(directory=assets_directory()), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PREFIX}/favicon.png",
            swagger_ui_parameters=SWAGGER_PARAMETERS,
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            redoc_js_url=f"{ASSETS_PREFIX}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_PREFIX}/favicon.png",
            with_google_fonts=False,
        )
