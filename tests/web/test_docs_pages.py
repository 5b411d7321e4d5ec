"""`/docs` and `/redoc` in real headless Chromium: they still work offline under their
Content-Security-Policy, and no other site can frame them (a key is pasted into Swagger UI)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.http_stub import HttpStub
from tests.web.conftest import WebStack

pytestmark = pytest.mark.slow

#: The pages need no worker.
STACK_WORKERS = False

#: What each page shows once its bundle rendered the OpenAPI document.
RENDERED = {"/docs": "#operations-jobs-submit_job_jobs_post", "/redoc": "[data-section-id]"}


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    yield context
    context.close()


def watched(context: Any, origin: str) -> tuple[Any, list[str]]:
    """A new page and the console's CSP complaints, uncaught errors and requests elsewhere than
    `origin` on it."""
    page, problems = context.new_page(), []
    page.on("console", lambda m: problems.append(m.text) if "Security Policy" in m.text else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    own = (origin, f"blob:{origin}", "data:")  # a blob or data: URL is made by the page itself
    page.on("request", lambda r: None if r.url.startswith(own) else problems.append(r.url))
    page.set_default_timeout(30_000)
    return page, problems


@pytest.mark.parametrize("path", RENDERED)
def test_a_docs_page_renders_with_nothing_blocked(
    web_stack: WebStack, context: Any, path: str
) -> None:
    page, problems = watched(context, web_stack.url)
    page.goto(web_stack.url + path)
    page.wait_for_selector(RENDERED[path])
    if path == "/redoc":  # its search runs in a worker made from a blob
        page.fill("input[placeholder='Search...']", "order")
        page.wait_for_selector("[data-role='search:results'] li")
        # Its maker's logo, on their CDN, was asked for and blocked: now dropped unasked.
        page.wait_for_selector("text=API docs by Redocly")
        assert page.locator("img[alt='redocly logo']").count() == 0
    assert problems == []


def test_swagger_ui_authorizes_and_tries_a_request_under_its_policy(
    web_stack: WebStack, context: Any
) -> None:
    page, problems = watched(context, web_stack.url)
    page.goto(web_stack.url + "/docs")
    page.click("button.authorize")
    page.locator(".auth-container input").first.fill(web_stack.new_key("docs-csp"))
    page.locator(".auth-container button.authorize").first.click()
    page.click("button.btn-done")
    operation = "#operations-me-me_me_get"
    page.click(f"{operation} .opblock-summary-control")
    page.click(f"{operation} button.execute")
    status = page.locator(f"{operation} .live-responses-table tbody .response-col_status")
    assert (status.text_content() or "").strip() == "200"
    assert problems == []


@pytest.mark.parametrize("path", RENDERED)
def test_another_site_cannot_frame_a_docs_page(
    web_stack: WebStack, context: Any, path: str
) -> None:
    # A site of another origin (another port on this machine) framing the page.
    frame = f'<iframe src="{web_stack.url}{path}" width="800" height="600"></iframe>'
    with HttpStub(200, frame.encode(), {"Content-Type": "text/html"}) as site:
        page = context.new_page()
        page.goto(site.url + "/")
        page.wait_for_load_state("load")  # the frame's too: refused or loaded
    # Refused, Chromium shows its own error page in the frame instead.
    assert [frame.url for frame in page.frames[1:]] == ["chrome-error://chromewebdata/"]


@pytest.mark.parametrize("path", RENDERED)
def test_a_docs_page_carries_the_app_pages_protections(web_stack: WebStack, path: str) -> None:
    headers = httpx.get(web_stack.url + path).headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "'unsafe-eval'" not in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_redoc_shows_the_websocket_section_by_its_name_and_its_own_text(
    web_stack: WebStack, context: Any
) -> None:
    # Its heading had `/ws` in backticks: ReDoc's side menu and heading showed the markup,
    # "WebSocket: <code>/ws</code>", and the section repeated the whole intro above it.
    page, problems = watched(context, web_stack.url)
    page.goto(web_stack.url + "/redoc")
    page.wait_for_selector(RENDERED["/redoc"])
    menu = page.locator("[role='menuitem']").first
    assert (menu.text_content() or "").strip() == "WebSocket: /ws"
    section = page.locator("[data-section-id='section/WebSocket:-ws']")
    text = section.text_content() or ""
    assert text.startswith("WebSocket: /wsEvery committed event is pushed"), text[:200]
    assert "Rate limits." not in text
    assert problems == []
