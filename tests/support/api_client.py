"""The tests' own httpx clients for a real api process."""

from __future__ import annotations

import httpx

from jobcast.client.http import IDLE_CONNECTION_SECONDS

#: One TLS context for all of them: httpx builds one per client otherwise, loading the CA
#: bundle (~30 ms of CPU a client), and the tests' apis speak plain HTTP anyway.
TLS_CONTEXT = httpx.create_ssl_context()


def api_client(
    base_url: str,
    key: str | None = None,
    *,
    timeout: float = 10,
    headers: dict[str, str] | None = None,
) -> httpx.Client:
    """A client for the api at `base_url`, sending `key` as a bearer token when given."""
    bearer = {"Authorization": f"Bearer {key}"} if key else {}
    # Idle connections dropped before the api's keep-alive ends them, as the product's client
    # does: httpx keeps them as long, and a request sent as the api closed one was lost
    # ("Server disconnected without sending a response").
    return httpx.Client(
        base_url=base_url,
        headers={**bearer, **(headers or {})},
        timeout=timeout,
        limits=httpx.Limits(keepalive_expiry=IDLE_CONNECTION_SECONDS),
        verify=TLS_CONTEXT,
    )
