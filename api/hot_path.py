"""The busiest routes, answered without FastAPI's per-request machinery.

FastAPI spends about 50 us of CPU on each request around the endpoint: its routing walks every
included router, then it solves dependencies generically, opens exit stacks, validates and
serializes the answer — more than the whole of a bare Starlette app's `/healthz`
(bench/front.py). A hot route is an ordinary FastAPI route, declared in `api/routes/` with its
OpenAPI entry, dependencies and endpoint; this layer serves it by calling those same
dependencies and that same endpoint directly, validates its header parameters with FastAPI's own
function for them, and serializes what the endpoint returns with the route's own response
field, as FastAPI does. Only routes simple enough for that qualify (`HotRoute` refuses the others
at start-up): plain-string path parameters, header parameters, and dependencies that take
nothing but the request and the response. Every other request goes on to FastAPI.

It sits just inside the front door (`api.middleware`), so the access log, metrics, headers,
CORS and caps are the same for every route, and errors go to the app's own exception handlers.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

from fastapi import FastAPI, Request, Response
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.routing import RouteContext, iter_route_contexts
from fastapi.utils import is_body_allowed_for_status_code
from starlette.types import ASGIApp, Receive, Scope, Send

ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


class NotHotError(ValueError):
    """A route named hot that this layer cannot serve exactly as FastAPI would."""


class HotRoute:
    """One FastAPI route (as included in the app), served directly."""

    def __init__(self, context: RouteContext) -> None:
        _check(context)
        self.route = context.original_route
        self.endpoint = cast(Callable[..., Awaitable[Any]], context.endpoint)
        self.methods, self.regex = frozenset(context.methods or ()), context.path_regex
        self.field, self.status = context.response_field, context.status_code or 200
        self.dump_options = {
            "include": context.response_model_include,
            "exclude": context.response_model_exclude,
            "by_alias": context.response_model_by_alias,
            "exclude_unset": context.response_model_exclude_unset,
            "exclude_defaults": context.response_model_exclude_defaults,
            "exclude_none": context.response_model_exclude_none,
        }
        top: Dependant = context.dependant
        self.dependencies = [_DependencyCall(dep) for dep in top.dependencies]
        self.own = _DependencyCall(top)
        self.header_params = top.header_params
        calls = [self.own, *self.dependencies]
        #: Whether anything takes the request or the response: a Request (~2 us) and a sub
        #: response (~1.5 us) are made only for routes that use them (or read its headers).
        self.takes_request = bool(self.header_params) or any(c.request_name for c in calls)
        self.takes_response = any(call.response_name for call in calls)

    async def answer(self, request: Request | None, params: dict[str, str]) -> ASGIApp:
        """Solve the dependencies, call the endpoint and serialize, as FastAPI would."""
        response = _sub_response() if self.takes_response else None
        values: dict[str, Any] = {**params, **self.own.arguments(request, response)}
        for dependency in self.dependencies:
            values[dependency.name] = await dependency.call(
                **dependency.arguments(request, response)
            )
        if self.header_params:  # after the dependencies, as FastAPI: a 401 comes first
            values.update(self._headers(cast(Request, request)))
        return self._render(await self.endpoint(**values), response)

    def _headers(self, request: Request) -> dict[str, Any]:
        values, errors = request_params_to_args(self.header_params, request.headers)
        if errors:
            raise RequestValidationError(errors, body=None)
        return values

    def _render(self, raw: Any, response: Response | None) -> ASGIApp:
        if isinstance(raw, Response):
            return raw
        value, errors = self.field.validate(raw, {}, loc=("response",))
        if errors:
            raise ResponseValidationError(errors=errors, body=raw)
        body = self.field.serialize_json(value, **self.dump_options)
        status, extra = self.status, []
        if response is not None:
            status, extra = response.status_code or status, response.raw_headers
        if not is_body_allowed_for_status_code(status):  # as FastAPI: headers kept, body not
            answer = Response(body, status_code=status, media_type="application/json")
            answer.body = b""
            answer.raw_headers.extend(extra)
            return answer
        return _JSONAnswer(status, body, extra)


class _JSONAnswer:
    """What `Response(body, media_type="application/json")` sends, headers and all, without
    building one (its constructor and header bookkeeping are a tenth of a hot request)."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
        self.status, self.body = status, body
        self.headers = [
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"content-type", b"application/json"),
            *extra,
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


class _DependencyCall:
    """A flat dependency (or the endpoint's own parameters): which of request and response it
    takes, under which names."""

    def __init__(self, dependant: Dependant) -> None:
        self.name = dependant.name or ""
        self.call = cast(Callable[..., Awaitable[Any]], dependant.call)
        self.request_name = dependant.request_param_name
        self.response_name = dependant.response_param_name

    def arguments(self, request: Request | None, response: Response | None) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        if self.request_name:
            arguments[self.request_name] = request
        if self.response_name:
            arguments[self.response_name] = response
        return arguments


def _sub_response() -> Response:
    """The response dependencies set headers (and maybe a status) on, as FastAPI makes it: no
    headers, no status. (Made as a 204 so that no Content-Length is added only to be deleted.)"""
    response = Response(status_code=204)
    response.status_code = None  # type: ignore[assignment]
    return response


def _check(context: RouteContext) -> None:
    """Raise `NotHotError` unless serving the route directly gives what FastAPI would."""
    path, top = context.path, context.dependant
    if context.response_field is None or not isinstance(context.response_class, DefaultPlaceholder):
        raise NotHotError(f"{path}: a hot route answers JSON through its response model")
    taken = [*top.path_params, *top.header_params]
    if _parameters(top) != taken or not inspect.iscoroutinefunction(top.call):
        raise NotHotError(f"{path}: a hot endpoint is async and takes path or header parameters")
    for field in top.path_params:
        if field.field_info.annotation is not str or field.field_info.metadata:
            raise NotHotError(f"{path}: path parameter {field.name} is not a plain string")
    for dep in top.dependencies:
        flat = not dep.dependencies and not _parameters(dep) and not dep.security_scopes_param_name
        if not flat or not inspect.iscoroutinefunction(dep.call):
            raise NotHotError(f"{path}: {dep.name} is not an async request/response dependency")


def _parameters(dependant: Dependant) -> list[Any]:
    return [
        *dependant.path_params,
        *dependant.query_params,
        *dependant.header_params,
        *dependant.cookie_params,
        *dependant.body_params,
    ]


class HotPath:
    """ASGI layer: a request for a hot route is answered here; anything else goes on."""

    def __init__(self, app: ASGIApp, api: FastAPI, endpoints: Iterable[Callable[..., Any]]) -> None:
        self.app, self.api = app, api
        self.routes = [HotRoute(context) for context in _contexts_of(api, endpoints)]
        # As FastAPI's ExceptionMiddleware: Exception itself is the outer error middleware's.
        self.handlers: dict[type, ExceptionHandler] = {
            key: handler  # type: ignore[misc]
            for key, handler in api.exception_handlers.items()
            if isinstance(key, type) and key is not Exception
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._may_serve(scope):
            path, method = scope["path"], scope["method"]
            for hot in self.routes:
                match = hot.regex.match(path)
                if match is not None and method in hot.methods:
                    await self._serve(hot, match.groupdict(), scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def _may_serve(self, scope: Scope) -> bool:
        # Overridden dependencies (tests) and a root path are FastAPI's to resolve.
        plain = not scope.get("root_path") and not self.api.dependency_overrides
        return scope["type"] == "http" and plain

    async def _serve(
        self, hot: HotRoute, params: dict[str, str], scope: Scope, receive: Receive, send: Send
    ) -> None:
        # What FastAPI's routing leaves in the scope (the front door labels metrics by route).
        scope["route"], scope["endpoint"], scope["path_params"] = hot.route, hot.endpoint, params
        request = Request(scope, receive) if hot.takes_request else None
        try:
            answer = await hot.answer(request, params)
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                raise
            answer = await handler(request or Request(scope, receive), exc)
        await answer(scope, receive, send)

    def _handler_for(self, exc: Exception) -> ExceptionHandler | None:
        for cls in type(exc).__mro__:
            if cls in self.handlers:
                return self.handlers[cls]
        return None


def _contexts_of(api: FastAPI, endpoints: Iterable[Callable[..., Any]]) -> list[RouteContext]:
    """The app's routes (as included) whose endpoint is one of `endpoints`: each has one at
    least, or more (a path kept as an alias)."""
    wanted = list(endpoints)
    found = [c for c in iter_route_contexts(api.routes) if c.endpoint in wanted]
    missing = [endpoint for endpoint in wanted if all(c.endpoint is not endpoint for c in found)]
    if missing:
        raise NotHotError(f"each hot endpoint needs a route: {missing} has none")
    return found
