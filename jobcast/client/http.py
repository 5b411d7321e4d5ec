"""HTTP to the api: the key on every request, the error shape turned into exceptions, and
429/503 retried as `retry.py` allows."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from jobcast.client import errors
from jobcast.client.config import ClientConfig
from jobcast.client.multipart import FileBody
from jobcast.client.retry import IDEMPOTENT_METHODS, RetryPolicy, may_retry_status

#: Called before each retry with (the status, or 0 for a transport error; the wait in seconds).
RetryCallback = Callable[[int, float], None]
USER_AGENT = "jobcast-client/0.1"
#: Seconds an upload waits for its answer after its last byte (at least the client's `timeout`):
#: the api answers once the file is stored and its job registered, which for a large file on a
#: busy disk takes longer than any other answer. Bounded still: a server that stalls must not
#: hold the caller for ever.
UPLOAD_ANSWER_TIMEOUT = 300.0


#: Seconds an idle connection is kept for the next request: under the api's keep-alive
#: (uvicorn's 5 s). httpx keeps one as long, so a request sent just as the server closed it
#: was lost ("Server disconnected without sending a response"): a read was sent again after a
#: backoff, a submit without an Idempotency-Key failed.
IDLE_CONNECTION_SECONDS = 4.0


class Http:
    def __init__(
        self,
        config: ClientConfig,
        policy: RetryPolicy,
        timeout: float,
        on_retry: RetryCallback | None = None,
    ) -> None:
        headers = {"User-Agent": USER_AGENT}
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        # One bound for connecting, sending each chunk and waiting for each chunk of the answer:
        # a long download that keeps sending is never cut, a server that goes quiet is.
        self.client = httpx.AsyncClient(
            base_url=config.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(keepalive_expiry=IDLE_CONNECTION_SECONDS),
        )
        self.config, self.policy, self.on_retry = config, policy, on_retry
        self.upload_timeout = httpx.Timeout(timeout, read=max(timeout, UPLOAD_ANSWER_TIMEOUT))

    @property
    def closed(self) -> bool:
        return self.client.is_closed

    def require_open(self) -> None:
        """ClientClosedError, said before anything is built: httpx's own RuntimeError is no
        JobcastError, and would come after an upload body was opened."""
        if self.closed:
            raise errors.client_closed()

    async def close(self) -> None:
        await self.client.aclose()  # a second close does nothing, as for a file

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        async with self.stream(method, path, **kwargs) as response:
            await response.aread()
            return response.json() if response.content else None

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        body: FileBody | None = None,
        repeatable: bool | None = None,
        retries: int | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[httpx.Response]:
        """The response to a request, its body not read yet; retried while the rules allow, at
        most `retries` times (None: as the policy says).
        Every route the client calls takes a key: without one nothing is sent (the error says
        how to give one; the server's 401 could not, and an unreachable server hid it)."""
        self.require_open()
        self.config.require_key()
        repeatable = method in IDEMPOTENT_METHODS if repeatable is None else repeatable
        if body is not None:
            kwargs["content"], kwargs["headers"] = body, _body_headers(body, kwargs.get("headers"))
            kwargs["timeout"] = self.upload_timeout
        retries = self.policy.max_retries if retries is None else retries
        response = await self._send_retrying(method, path, body, repeatable, retries, kwargs)
        try:
            yield response
        finally:
            await response.aclose()

    async def _send_retrying(
        self,
        method: str,
        path: str,
        body: FileBody | None,
        repeatable: bool,
        retries: int,
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        for attempt in itertools.count():
            can_retry = attempt < retries and (body is None or body.rewindable)
            if body is not None and attempt:
                body.rewind()
            try:
                request = self.client.build_request(method, path, **kwargs)
                response = await self.client.send(request, stream=True)
            except httpx.TransportError as exc:
                # Nothing reached the server if the connection was never made.
                if can_retry and (repeatable or isinstance(exc, httpx.ConnectError)):
                    await self._pause(0, self.policy.delay(attempt, None))
                    continue
                raise unreachable(self.config.base_url, f"{method} {path}", exc) from exc
            if response.status_code < 400:
                return response
            await response.aread()
            if can_retry and may_retry_status(response.status_code, repeatable):
                delay = self.policy.delay(attempt, response.headers.get("retry-after"))
                await self._pause(response.status_code, delay)
                continue
            raise _error(response)
        raise AssertionError("unreachable")  # itertools.count() never ends

    async def _pause(self, status: int, delay: float) -> None:
        if self.on_retry is not None:
            self.on_retry(status, delay)
        await asyncio.sleep(delay)


def unreachable(base_url: str, request: str, exc: httpx.TransportError) -> errors.UnavailableError:
    """`unreachable`, said plainly: most often nothing listens at the address at all."""
    if isinstance(exc, httpx.ConnectError) and "[SSL" in str(exc) and base_url.startswith("https:"):
        # A server answered, but not in TLS (`jobcast up` serves plain HTTP): not unreachable.
        plain = base_url.replace("https://", "http://", 1)
        message = f"{base_url} answered, but not over TLS ({exc}): is its address {plain}?"
        return errors.UnavailableError("not_tls", message, {"url": base_url})
    if isinstance(exc, httpx.ReadTimeout):
        return _no_answer(base_url, request, exc)
    if isinstance(exc, httpx.ConnectError):
        message = (
            f"Nothing answers at {base_url} ({request}: {exc or type(exc).__name__}): is the "
            "Jobcast API running, and is this its address?"
        )
    else:
        message = f"{request} to {base_url}: the connection failed ({exc!r})."
    return errors.UnavailableError("unreachable", message, {"url": base_url})


def _no_answer(base_url: str, request: str, exc: httpx.ReadTimeout) -> errors.UnavailableError:
    """A server that took the request and then said nothing for the read timeout."""
    waited = exc.request.extensions.get("timeout", {}).get("read")
    within = f" within {waited:g} s" if isinstance(waited, (int, float)) else ""
    message = (
        f"{request} to {base_url}: the connection was made, but no answer came{within} "
        "(the client's `timeout`): is the Jobcast API overloaded or stuck, or is something "
        "else listening at this address?"
    )
    return errors.UnavailableError("no_answer", message, {"url": base_url})


def _body_headers(body: FileBody, extra: dict[str, str] | None) -> dict[str, str]:
    headers = {"Content-Type": body.content_type, **(extra or {})}
    if body.length is not None:
        headers["Content-Length"] = str(body.length)
    return headers


def _error(response: httpx.Response) -> errors.JobcastError:
    try:
        payload = response.json()
    except ValueError:
        payload = response.text
    request_id = response.headers.get("x-request-id")
    return errors.from_response(response.status_code, payload, request_id)
