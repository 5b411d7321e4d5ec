"""Who is calling, and how much they may: API keys and the rate limits that follow them.

`CurrentPrincipal` authenticates (`Authorization: Bearer <key>` or `X-API-Key`) and spends one
request from the principal's budget — "read" for GET/HEAD, "submit" for everything else — so
every authenticated route is limited without each route asking for it. A route that reads one
owned record takes `CurrentReader` instead, which spends and reads in one Redis round trip.
Requests with a key that is not valid spend from a per-address budget first, which stops key
guessing; one with no key at all is told how to send one, whatever that budget holds (no key
is looked up for it, so there is nothing to guess and nothing to protect).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import redis.asyncio as aioredis
from fastapi import Depends, FastAPI, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPBearer
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import app_state
from api.errors import ApiError
from api.ownership import check_owned, require_id
from api.state import AppState
from jobcast.keys import Principal, authenticate
from jobcast.ratelimit import (
    Budget,
    Decision,
    anonymous_budget,
    budget_for,
    client_address,
    spend,
    spend_and_read,
    spend_and_reserve,
)
from jobcast.scripts import ScriptLane
from jobcast.settings import Settings
from realtime.protocol import KEY_QUERY_NAMES

#: The two ways to send a key, as security schemes: the OpenAPI document lists them (Swagger
#: UI's Authorize button, `api.openapi`). Neither refuses on its own: `require_principal` does,
#: with the error shape and the anonymous rate limit. `presented_key` reads the headers as they
#: would, rather than calling them or declaring them as sub-dependencies: FastAPI's solving of
#: each costs more than reading the header, and the bearer scheme's credentials model a third.
BEARER = HTTPBearer(
    scheme_name="bearer", auto_error=False, description="`Authorization: Bearer <key>`"
)
API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key", scheme_name="apiKey", auto_error=False, description="`X-API-Key: <key>`"
)
SECURITY_SCHEMES = (BEARER, API_KEY_HEADER)
_API_KEY_NAME = API_KEY_HEADER.model.name.lower().encode("latin-1")


async def presented_key(request: Request) -> str | None:
    """The key sent as a bearer token or in `X-API-Key`, else None; `TwoKeysError` when the
    headers carry different keys, in the two headers or in two of one name (which one was meant
    is not for us to guess; the first of two `Authorization` headers won before)."""
    keys: set[str] = set()
    # One pass over the raw headers (names arrive lower-cased): `Headers.get` sees only the
    # first of a repeated name.
    for name, value in request.headers.raw:
        if name == b"authorization":
            scheme, credentials = _scheme_and_credentials(value.decode("latin-1"))
            if scheme.lower() == "bearer" and credentials:
                keys.add(credentials)
        elif name == _API_KEY_NAME and value:
            keys.add(value.decode("latin-1"))
    if len(keys) > 1:
        raise TwoKeysError
    return keys.pop() if keys else None


def _scheme_and_credentials(value: str) -> tuple[str, str]:
    """An `Authorization` value's scheme and what follows it, split at any whitespace: a tab
    after `Bearer` was read as a bare key without its scheme."""
    scheme, *rest = value.split(maxsplit=1) or [""]
    return scheme, rest[0].strip() if rest else ""


def _no_key_message(request: Request) -> str:
    """Why no key was read: none sent, or an `Authorization` header not in the bearer form (a
    bare key there was told that no key was sent at all), or a key put in the URL."""
    sent = request.headers.get("authorization", "").strip()
    scheme, credentials = _scheme_and_credentials(sent)
    in_url = next((name for name in request.query_params if name in KEY_QUERY_NAMES), None)
    if not sent and in_url:
        # As the WebSocket route says: a key in a URL ends up in logs and browser history.
        problem = f"Keys are never read from URLs (`?{in_url}=`): they end up in logs"
    elif not sent:
        problem = "An API key is required"
    elif scheme.lower() == "bearer" and not credentials:
        problem = "The Authorization header has nothing after `Bearer`"
    elif not credentials:
        problem = "The Authorization header lacks its scheme: put `Bearer ` before the key"
    else:
        problem = f"The Authorization scheme {scheme[:20]!r} is not one the API takes"
    return f"{problem}: send `Authorization: Bearer <key>` or `X-API-Key: <key>`."


class TwoKeysError(Exception):
    """The request's key headers carry different keys."""


#: On every 401: the scheme a key is sent with.
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def request_address(request: Request, settings: Settings) -> str:
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies)


def _raise_if_limited(decision: Decision) -> None:
    if not decision.allowed:
        raise ApiError(
            429,
            "rate_limited",
            f"Too many requests; retry after {decision.retry_after_s} s.",
            {"retry_after": decision.retry_after_s},
            headers=decision.headers(),
        )


async def _refuse_unauthenticated(
    request: Request, redis: aioredis.Redis, settings: Settings, code: str, message: str
) -> ApiError:
    decision = await spend(redis, anonymous_budget(settings), request_address(request, settings))
    _raise_if_limited(decision)
    # What the refusal cost its address, as every answer says what it cost: a key guesser
    # sees its budget run down.
    headers = {**_CHALLENGE, **decision.headers()}
    return ApiError(401, code, message, headers=headers)


async def require_principal(request: Request, response: Response) -> Principal:
    state = app_state(request)
    principal = await _authenticated(request, state)
    budget = budget_for(request.method, state.settings)
    _spent(await spend(state.redis, budget, principal.id), request, response)
    return principal


async def _authenticated(request: Request, state: AppState) -> Principal:
    """The caller's principal (nothing spent from its budget yet), or 401."""
    redis, settings = state.redis, state.settings
    try:
        key = await presented_key(request)
    except TwoKeysError:
        raise await _refuse_unauthenticated(
            request,
            redis,
            settings,
            "invalid_key",
            "Two different API keys were sent (in Authorization and X-API-Key, or twice in one): "
            "send one.",
        ) from None
    if key is None:
        # Unspent: a client that forgot its key was told 429 once its address had sent a few
        # requests, never that it lacked one.
        raise ApiError(401, "unauthenticated", _no_key_message(request), headers=_CHALLENGE)
    principal = await authenticate(redis, settings.secret("key_secret"), key, state.key_cache)
    if principal is None:
        raise await _refuse_unauthenticated(
            request, redis, settings, "invalid_key", "The API key is unknown or revoked."
        )
    request.state.principal = principal
    return principal


def _spent(decision: Decision, request: Request, response: Response) -> None:
    """429 when the spend was refused; otherwise the budget's headers on the response, and on
    the error answer should the route fail after all (`api.errors.spent_headers`). A refused
    spend counts as spent too: nothing is to spend it again."""
    headers = decision.headers()
    request.state.spent_headers = headers
    _raise_if_limited(decision)
    # Appended raw: the response is the route's own, fresh, so none of them is set yet, and
    # `response.headers.update` (a scan and a rebuild per header) took ~11 us a request of ~230.
    response.raw_headers.extend(
        (name.lower().encode(), value.encode()) for name, value in headers.items()
    )


@dataclass(frozen=True)
class OwnedReader:
    """An authenticated caller of a route that reads one owned record, with nothing spent yet:
    `load` spends the request and reads the record in one round trip."""

    principal: Principal
    redis: aioredis.Redis
    lane: ScriptLane
    budget: Budget
    request: Request
    response: Response

    async def load(
        self,
        record_id: str,
        pattern: re.Pattern[str],
        key_of: Callable[[str], str],
        what: str,
        leave_out: tuple[str, ...] = (),
    ) -> dict[str, str]:
        """The record `key_of(record_id)` as `api.ownership.load_owned` answers it, after the
        spend (429 when refused, before any 404), without the fields in `leave_out` (what the
        route does not show). A malformed id spends too, then is 404."""
        if not pattern.fullmatch(record_id):
            spent = await spend(self.redis, self.budget, self.principal.id)
            _spent(spent, self.request, self.response)
            require_id(record_id, pattern, what)  # 404
        record_key = key_of(record_id)
        decision, record = await spend_and_read(
            self.lane, self.budget, self.principal.id, record_key, leave_out
        )
        _spent(decision, self.request, self.response)
        return await check_owned(self.redis, record_key, record, self.principal, what)


async def require_reader(request: Request, response: Response) -> OwnedReader:
    state = app_state(request)
    principal = await _authenticated(request, state)
    budget = budget_for(request.method, state.settings)
    return OwnedReader(principal, state.redis, state.script_lane, budget, request, response)


@dataclass(frozen=True)
class Submitter:
    """An authenticated caller of the upload route, with nothing spent yet: the upload's first
    quota reservation spends the request in the same round trip (`spend_and_reserve`); a
    request refused before that spends alone (`spend`), so a 429 still comes first."""

    principal: Principal
    redis: aioredis.Redis
    budget: Budget
    request: Request
    response: Response

    async def spend_and_reserve(self, ledger: str, reserve_args: list[Any]) -> list[int]:
        """Spend the request (429 when refused) and reserve: the reservation's raw reply."""
        decision, reserved = await spend_and_reserve(
            self.redis, self.budget, self.principal.id, ledger, reserve_args
        )
        _spent(decision, self.request, self.response)
        return reserved

    async def spend(self) -> None:
        """Spend the request unless it is spent already (429 when refused)."""
        if not _has_spent(self.request):
            _spent(
                await spend(self.redis, self.budget, self.principal.id), self.request, self.response
            )


def _has_spent(request: Request) -> bool:
    return getattr(request.state, "spent_headers", None) is not None


async def require_submitter(request: Request, response: Response) -> Submitter:
    state = app_state(request)
    principal = await _authenticated(request, state)
    budget = budget_for(request.method, state.settings)
    return Submitter(principal, state.redis, budget, request, response)


async def require_admin(principal: Annotated[Principal, Depends(require_principal)]) -> Principal:
    if not principal.admin:
        raise ApiError(403, "forbidden", "This route needs an admin key.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]
CurrentReader = Annotated[OwnedReader, Depends(require_reader)]
CurrentSubmitter = Annotated[Submitter, Depends(require_submitter)]
AdminPrincipal = Annotated[Principal, Depends(require_admin)]
#: The dependencies that take a key: a route using any of them (directly or through another)
#: lists `SECURITY_SCHEMES` in the OpenAPI document.
AUTHENTICATING = (require_principal, require_reader, require_submitter)


def takes_key(dependant: Dependant) -> bool:
    """Whether a route (its dependant) authenticates, through any of its dependencies."""
    return any(d.call in AUTHENTICATING or takes_key(d) for d in dependant.dependencies)


#: An exception handler as Starlette keeps them (ours are all async).
ErrorHandler = Callable[[Request, Any], Response | Awaitable[Response]]


def check_key_before_body_errors(app: FastAPI) -> None:
    """FastAPI reads a route's body before it solves the route's dependencies: a JSON body it
    cannot decode (422), or one past the cap as it arrives (413), was answered before the key
    was looked at, to a request with no key too, and the access log could not name the
    principal. Its error handlers (`api.errors`, installed first) now check the key first."""
    refuse = app.exception_handlers[ApiError]
    for error in (RequestValidationError, StarletteHTTPException):
        app.exception_handlers[error] = _key_checked_first(app.exception_handlers[error], refuse)


def _key_checked_first(handler: ErrorHandler, refuse: ErrorHandler) -> ErrorHandler:
    """`handler`, with the key of a route that takes one checked first if it was not yet: a
    request without a valid key is answered as any other (`refuse`: 401, or 429), and with one
    it is the principal's and spent from its budget, as every refusal after auth is."""

    async def checked(request: Request, exc: Exception) -> Response:
        # Nothing spent yet: no key checked, or a route that spends later (`Submitter`).
        if not _has_spent(request) and _route_takes_key(request):
            try:
                await require_principal(request, Response())
            except ApiError as refusal:
                return await _answer(refuse(request, refusal))
            except (RedisError, OSError):
                pass  # the body's error is the answer; the principal stays unknown
        return await _answer(handler(request, exc))

    return checked


async def _answer(answer: Response | Awaitable[Response]) -> Response:
    return answer if isinstance(answer, Response) else await answer


def _route_takes_key(request: Request) -> bool:
    route = request.scope.get("route")
    return isinstance(route, APIRoute) and takes_key(route.dependant)
