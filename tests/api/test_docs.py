"""`/docs` and `/redoc` load with no internet: every script, style and icon comes from the api."""

from __future__ import annotations

import asyncio
import re
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx
import pytest

from api.app import create_app
from jobcast.settings import Settings

#: Hosts the stock FastAPI pages load scripts, styles, fonts and icons from: none may appear in
#: what our pages load, bundles included.
CDN_HOSTS = (
    "cdn.jsdelivr.net",
    "unpkg.com",
    "fonts.googleapis.com",
    "fonts.gstatic.com",
    "fastapi.tiangolo.com",
    "cdnjs.cloudflare.com",
)
ABSOLUTE_URL = re.compile(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s'\")]*")
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)")


class References(HTMLParser):
    """Every URL a page makes the browser load: scripts, styles, icons, the spec."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in ("src", "href", "spec-url"):
                self.urls.append(value)


def references(html: str) -> list[str]:
    parser = References()
    parser.feed(html)
    # Swagger UI is told where the spec is in its inline script.
    return parser.urls + re.findall(r"url: '([^']+)'", html)


async def fetch_all(settings: Settings, page: str) -> dict[str, httpx.Response]:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        fetched = {page: await client.get(page)}
        pending = references(fetched[page].text)
        while pending:
            url = urljoin(page, pending.pop())
            if url in fetched or url.startswith("data:"):
                continue
            assert re.match(r"^/[^/]", url), f"{page} loads {url} from elsewhere"
            fetched[url] = await client.get(url)
            if url.endswith(".css"):
                pending += CSS_URL.findall(fetched[url].text)
    return fetched


@pytest.mark.parametrize(
    ("page", "script"),
    [
        ("/docs", "/docs-assets/swagger-ui-bundle.js"),
        ("/redoc", "/docs-assets/redoc.standalone."),  # its name holds its contents' hash
    ],
)
def test_docs_page_and_everything_it_references_load_from_the_api(
    settings: Settings, page: str, script: str
) -> None:
    fetched = asyncio.run(fetch_all(settings, page))

    assert all(r.status_code == 200 for r in fetched.values()), {
        url: r.status_code for url, r in fetched.items()
    }
    [bundle] = [fetched[url] for url in fetched if url.startswith(script)]
    assert "javascript" in bundle.headers["content-type"]
    assert len(bundle.content) > 100_000  # the real bundle, not a stub
    assert "/openapi.json" in fetched
    assert "/docs-assets/favicon.png" in fetched
    if page == "/docs":
        assert "text/css" in fetched["/docs-assets/swagger-ui.css"].headers["content-type"]
        # Swagger UI would otherwise send the spec to its public validator for a badge.
        assert '"validatorUrl": null' in fetched[page].text
    page_and_styles = [r.text for url, r in fetched.items() if url == page or url.endswith(".css")]
    for text in page_and_styles:
        # SVG images inlined in the styles name their XML namespace; nothing else is absolute.
        absolute = [u for u in ABSOLUTE_URL.findall(text) if not u.startswith("http://www.w3.org/")]
        assert absolute == []
    for response in fetched.values():
        assert not any(host in response.text for host in CDN_HOSTS)


def test_docs_pages_policy_allows_only_what_they_load(settings: Settings) -> None:
    """Each source a page's policy names is one it uses (tests/web checks nothing is blocked)."""

    async def policies() -> list[str]:
        transport = httpx.ASGITransport(app=create_app(settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            pages = [await client.get(page) for page in ("/docs", "/redoc")]
        return [page.headers["content-security-policy"] for page in pages]

    for policy in asyncio.run(policies()):
        directives = dict(d.strip().partition(" ")[::2] for d in policy.split(";"))
        assert directives["img-src"] == "'self' data:"  # Swagger UI's icons
        assert directives["font-src"] == "'self'"  # neither bundle has a font
        assert directives["worker-src"] == "'self' blob:"  # ReDoc's search
        assert "http" not in policy
