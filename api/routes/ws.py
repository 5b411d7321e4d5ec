"""The WebSocket endpoints: `/ws` (the protocol in the README), the seed's `/ws/chat/{user_id}`
and `/ws/monitor` aliases, and `POST /ws/ticket` for clients that cannot send a key in-band."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket
from starlette.routing import Router, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import CurrentPrincipal
from api.deps import RedisDep, SettingsDep
from api.errors import error_response
from api.openapi_errors import AUTHENTICATED, errors
from jobcast.schemas.realtime import WsTicket
from jobcast.schemas.text import escape_controls
from jobcast.settings import Settings
from realtime import tickets
from realtime.runtime import Realtime
from realtime.session import Session

router = APIRouter(tags=["realtime"])


@router.post(
    "/ws/ticket",
    status_code=201,
    summary="Get a WebSocket ticket",
    responses=errors(*AUTHENTICATED),
)
async def create_ticket(
    principal: CurrentPrincipal, redis: RedisDep, settings: SettingsDep
) -> WsTicket:
    """A single-use ticket for `GET /ws?ticket=…` (browsers cannot set headers on a WebSocket)."""
    ticket = await tickets.issue(redis, principal, settings.ws_ticket_ttl)
    return WsTicket(ticket=ticket, expires_in=settings.ws_ticket_ttl)


def _realtime(websocket: WebSocket) -> Realtime:
    rt: Realtime = websocket.app.state.realtime
    return rt


def origin_allowed(origin: str | None, host: str | None, settings: Settings) -> bool:
    """No Origin (not a browser), the page's own origin (the app the api serves), a listed
    origin, or in dev mode a localhost one (`Settings.cors_origin_regex`)."""
    allowed, regex = settings.cors_origins, settings.cors_origin_regex
    if origin is None or origin in allowed or "*" in allowed:
        return True
    if host is not None and urlsplit(origin).netloc == host:
        return True
    return regex is not None and re.fullmatch(regex, origin) is not None


async def _accepted(websocket: WebSocket) -> Realtime | None:
    """Accept the handshake if its Origin is allowed (CORS middleware does not see WebSockets)."""
    rt = _realtime(websocket)
    headers = websocket.headers
    if not origin_allowed(headers.get("origin"), headers.get("host"), rt.settings):
        await websocket.close(code=1008)  # before accept: the handshake answers 403
        return None
    await websocket.accept()
    return rt


async def ws(websocket: WebSocket) -> None:
    rt = await _accepted(websocket)
    if rt is not None:
        await Session(rt, websocket).run(websocket.query_params.get("ticket"))


async def ws_chat(websocket: WebSocket) -> None:
    """The seed's chat: joins `chat.{room}`; plain text frames are sent as chat messages."""
    rt = await _accepted(websocket)
    if rt is not None:
        # Every value: a repeated `room` is refused rather than one of them guessed.
        rooms = websocket.query_params.getlist("room")
        user_id = str(websocket.path_params["user_id"])
        ticket = websocket.query_params.get("ticket")
        await Session(rt, websocket).run(ticket, rooms=rooms, user_id=user_id)


async def ws_monitor(websocket: WebSocket) -> None:
    """The seed's dashboard stream: subscribed to `monitor` once authenticated."""
    rt = await _accepted(websocket)
    if rt is not None:
        await Session(rt, websocket).run(websocket.query_params.get("ticket"), ("monitor",))


#: The ASGI extension by which a handshake can be answered with any HTTP response.
DENIAL_RESPONSE = "websocket.http.response"


async def no_such_route(scope: Scope, receive: Receive, send: Send) -> None:
    """A handshake to a path no WebSocket route serves: 404 with the api's error body.

    Starlette's default closes before accept, which uvicorn answers with 403: the answer the
    README keeps for a refused Origin, so a mistyped path read as a refused Origin."""
    websocket = WebSocket(scope, receive, send)
    if DENIAL_RESPONSE not in scope.get("extensions", {}):
        await websocket.close(code=1008)  # a server without the extension: 403 after all
        return
    path = escape_controls(websocket.url.path)[:200]
    message = f"No WebSocket route {path}; connect to /ws (README: WebSocket protocol)."
    await websocket.send_denial_response(error_response(404, "not_found", message))


#: The WebSocket routes, served by `WebSocketShortcut` rather than through the app's router.
websocket_routes = Router(
    routes=[
        WebSocketRoute("/ws", ws),
        WebSocketRoute("/ws/chat/{user_id}", ws_chat),
        WebSocketRoute("/ws/monitor", ws_monitor),
    ],
    default=no_such_route,
)


class WebSocketShortcut:
    """Outermost app middleware: a WebSocket goes straight to its route.

    A WebSocket lives for hours, and every layer it passes through keeps its coroutine frame
    (and FastAPI's exit stack) alive all that time: ~5 KB of an idle connection's ~35 KB
    (bench/RESULTS.md). The HTTP middleware (CORS, access log, body limit) does not apply to
    WebSockets anyway: the Origin check and the logging rules are in the endpoints.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await websocket_routes(scope, receive, send)
        else:
            await self.app(scope, receive, send)
