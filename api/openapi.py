"""The OpenAPI document's prose (the API description, the WebSocket protocol, the tags) and
the one adjustment FastAPI's generator needs."""

from __future__ import annotations

from typing import Any, cast

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from api.auth import SECURITY_SCHEMES, takes_key
from api.errors import NOT_JSON
from api.openapi_errors import openapi_error
from api.openapi_headers import document_headers
from jobcast.events import EVENT_TYPES

# Headings in plain text: ReDoc showed one with `code` as its markup, `<code>/ws</code>`, in its
# side menu and heading, and repeated the whole intro as that section's text.
_DESCRIPTION = """\
Submit work over HTTP; follow every state change live over one WebSocket.

**Authentication.** Every route except the probes and these docs needs an API key:
`Authorization: Bearer <key>` (or `X-API-Key: <key>`). Create one with
`jobcast keys create --name you`; in Swagger UI, press **Authorize** and paste it.

**Errors.** Every 4xx and 5xx has one shape, `{"error": {"code", "message", "details"}}`;
each route lists the codes it can answer with. Any route may also answer 414 `uri_too_long`
or 431 `headers_too_large` (refused before routing) and 500 `internal_error` (a bug:
`details.request_id` is in the server log).

**Rate limits.** Per principal, one budget for reads (GET) and one for everything else;
responses carry `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`, and a 429
carries `Retry-After`.

## WebSocket: /ws

Every committed event is pushed over one multiplexed WebSocket per client, at `/ws` (the
full protocol is the README's "Realtime: WebSocket push" section). Each frame is one JSON
object with a `type`.

1. **Authenticate**: send `{"type": "auth", "key": "<key>"}` as the first message, or get a
   single-use ticket from `POST /ws/ticket` and open `/ws?ticket=<ticket>` (browsers cannot
   set headers on a WebSocket; keys never go in URLs). Answer: `{"type": "auth.ok", ...}`.
2. **Subscribe**: `{"type": "subscribe", "channel": "job.<id>", "since": "<last seq>"}`
   (`since` optional). Channels: `job.{id}` and `user.me` (yours only), `market.{symbol}`,
   `chat.{room}`, `monitor`. A job channel without `since` starts with a `snapshot` of the
   job (with its result).
3. **Events** arrive as `{"seq", "channel", "type", "ts", "data"}`; `seq` increases per
   channel. After a reconnect, subscribe with `since` = the last `seq` you have: you get
   every later event, no gap and no duplicate, or `resync` when they are no longer kept.
   Types: EVENT_TYPES.
4. Also: `unsubscribe`, `publish` (chat), `ping`; the server sends `heartbeat` every few
   seconds and `error` (`code`, `message`, `ref`) for a refused message. Close codes: 4001
   no valid key, 4008 too slow, 4029 too many connections, 1012 server restarting (reconnect
   with `since`).
"""

#: The event types from their one list, so the description names each the code publishes.
DESCRIPTION = _DESCRIPTION.replace("EVENT_TYPES", ", ".join(f"`{t}`" for t in EVENT_TYPES))

TAGS = [
    {"name": "jobs", "description": "File jobs: upload a table, follow it, read its result."},
    {"name": "orders", "description": "Limit and market orders, matched by the `orders` workers."},
    {
        "name": "market",
        "description": "Top of book, depth and trades per symbol (live: `market.{symbol}`).",
    },
    {"name": "data", "description": "The seed's data items, owned and paginated."},
    {
        "name": "realtime",
        "description": "Tickets for `/ws` (the protocol is in the description above).",
    },
    {"name": "me", "description": "Who your key acts for, and the limits it works within."},
    {"name": "admin", "description": "Key management; needs an admin key."},
    {"name": "health", "description": "Probes for load balancers and orchestrators."},
]

#: FastAPI adds this 422 to every route with parameters; our 422s use the error shape and are
#: declared by the routes that can give one.
_DEFAULT_422 = "#/components/schemas/HTTPValidationError"


def custom_openapi(app: FastAPI) -> dict[str, Any]:
    """The document, built once: FastAPI's, without its default validation-error answers."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        for path in schema["paths"].values():
            for operation in path.values():
                _drop_default_422(operation["responses"])
        components = schema.get("components", {}).get("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        _document_security(app, schema)
        _document_json_refusal(schema)
        document_headers(schema)  # after the security requirements, which it reads
        app.openapi_schema = schema
    return app.openapi_schema


def _document_security(app: FastAPI, schema: dict[str, Any]) -> None:
    """The key's security schemes, on every route that takes a key. FastAPI lists the schemes a
    route declares as dependencies; ours are read inside `api.auth`'s dependencies instead."""
    requirement: list[dict[str, list[str]]] = [{s.scheme_name: []} for s in SECURITY_SCHEMES]
    for route in iter_route_contexts(app.routes):  # included routers' routes too
        if not isinstance(route.original_route, APIRoute):
            continue
        api_route = cast(APIRoute, route)
        if api_route.include_in_schema and takes_key(api_route.dependant):
            for method in api_route.methods or ():
                schema["paths"][api_route.path_format][method.lower()]["security"] = requirement
    schema.setdefault("components", {})["securitySchemes"] = {
        scheme.scheme_name: jsonable_encoder(scheme.model, by_alias=True, exclude_none=True)
        for scheme in SECURITY_SCHEMES
    }


def _document_json_refusal(schema: dict[str, Any]) -> None:
    """415 on every operation that reads a JSON body: a body of another type is refused by the
    validation handler (`api.errors`), which no route declares, so a new JSON route has it too."""
    refusal = openapi_error("unsupported_media_type", NOT_JSON)
    for path in schema["paths"].values():
        for operation in path.values():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                responses = operation["responses"]
                responses.setdefault("415", refusal)
                operation["responses"] = dict(sorted(responses.items()))


def _drop_default_422(responses: dict[str, Any]) -> None:
    body = responses.get("422", {}).get("content", {}).get("application/json", {})
    if body.get("schema", {}).get("$ref") == _DEFAULT_422:
        del responses["422"]
