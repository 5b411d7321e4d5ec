"""The Jobcast client: `Client` (sync) and `AsyncClient` (asyncio) for the public API.

It needs only httpx, websockets and pydantic: nothing here imports the server, pandas or
Celery, so it installs and imports fast wherever a user runs it.
"""

from jobcast.client.aio import AsyncClient
from jobcast.client.errors import (
    AuthenticationError,
    ClientClosedError,
    ConfigError,
    ConflictError,
    GoneError,
    InvalidRequestError,
    JobCancelledError,
    JobcastError,
    JobFailedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    StreamError,
    UnavailableError,
    UploadStalledError,
    WaitTimeoutError,
)
from jobcast.client.reading import Reading
from jobcast.client.resume import Event
from jobcast.client.retry import RetryPolicy
from jobcast.client.stream import StreamOptions
from jobcast.client.sync import Client

__all__ = [
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "ClientClosedError",
    "ConfigError",
    "ConflictError",
    "Event",
    "GoneError",
    "InvalidRequestError",
    "JobCancelledError",
    "JobFailedError",
    "JobcastError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "Reading",
    "RetryPolicy",
    "ServerError",
    "StreamError",
    "StreamOptions",
    "UnavailableError",
    "UploadStalledError",
    "WaitTimeoutError",
]
