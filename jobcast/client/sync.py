"""`Client`: the same API as `AsyncClient`, for code that does not use asyncio."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from jobcast.client.aio import AsyncClient
from jobcast.client.http import RetryCallback
from jobcast.client.multipart import UploadCallback
from jobcast.client.portal import Portal
from jobcast.client.reading import Reading
from jobcast.client.resume import Event
from jobcast.client.retry import RetryPolicy
from jobcast.client.stream import StreamOptions
from jobcast.client.waiting import ProgressCallback
from jobcast.schemas import (
    BookDepth,
    Job,
    JobResult,
    Me,
    Order,
    OrderBatchResult,
    Quote,
    SymbolInfo,
    TradeList,
)


class Client:
    """A Jobcast API client. `base_url` and `api_key` default to `JOBCAST_URL` /
    `JOBCAST_API_KEY`, then to what `jobcast login` saved (its address only with its own key),
    then to the api of a local `jobcast up` (see `jobcast.client.config`). See `AsyncClient`
    for each method.

    Callbacks (`on_upload`, `on_progress`, `on_retry`) run on the client's own thread.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        on_retry: RetryCallback | None = None,
        stream_options: StreamOptions | None = None,
    ) -> None:
        self._portal = Portal()
        self.aio = AsyncClient(
            base_url,
            api_key,
            timeout=timeout,
            retry=retry,
            on_retry=on_retry,
            stream_options=stream_options,
        )
        self.config = self.aio.config

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._portal.run(self.aio.aclose())
        self._portal.close()

    def submit_file(
        self,
        file: str | Path | IO[bytes],
        operation: str = "profile",
        *,
        group_by: Iterable[str] = (),
        metrics: Mapping[str, Iterable[str]] | None = None,
        to: str | None = None,
        reading: Reading | None = None,
        idempotency_key: str | None = None,
        on_upload: UploadCallback | None = None,
    ) -> Job:
        return self._portal.run(
            self.aio.submit_file(
                file,
                operation,
                group_by=group_by,
                metrics=metrics,
                to=to,
                reading=reading,
                idempotency_key=idempotency_key,
                on_upload=on_upload,
            )
        )

    def job(self, job_id: str) -> Job:
        return self._portal.run(self.aio.job(job_id))

    def jobs(self, status: str | None = None, page_size: int = 50) -> Generator[Job, None, None]:
        return self._portal.iterate(self.aio.jobs(status, page_size))

    def cancel(self, job_id: str) -> Job:
        return self._portal.run(self.aio.cancel(job_id))

    def result(self, job_id: str) -> JobResult:
        return self._portal.run(self.aio.result(job_id))

    def download(self, job_id: str, path: str | Path) -> Path:
        return self._portal.run(self.aio.download(job_id, path))

    def wait(
        self,
        job_id: str,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> JobResult:
        return self._portal.run(self.aio.wait(job_id, timeout, on_progress))

    def place(
        self, symbol: str, side: str, quantity: int, price: str | None = None, **options: Any
    ) -> Order:
        return self._portal.run(self.aio.place(symbol, side, quantity, price, **options))

    def place_batch(self, orders: Iterable[Mapping[str, Any]]) -> OrderBatchResult:
        return self._portal.run(self.aio.place_batch(orders))

    def cancel_order(self, order_id: str) -> Order:
        return self._portal.run(self.aio.cancel_order(order_id))

    def order(self, order_id: str) -> Order:
        return self._portal.run(self.aio.order(order_id))

    def orders(
        self, symbol: str | None = None, status: str | None = None, *, newest_first: bool = False
    ) -> Generator[Order, None, None]:
        return self._portal.iterate(self.aio.orders(symbol, status, newest_first=newest_first))

    def me(self) -> Me:
        return self._portal.run(self.aio.me())

    def symbols(self) -> list[SymbolInfo]:
        return self._portal.run(self.aio.symbols())

    def quote(self, symbol: str) -> Quote:
        return self._portal.run(self.aio.quote(symbol))

    def book(self, symbol: str, depth: int = 10) -> BookDepth:
        return self._portal.run(self.aio.book(symbol, depth))

    def trades(self, symbol: str, limit: int = 50) -> TradeList:
        return self._portal.run(self.aio.trades(symbol, limit))

    def events(
        self, *channels: str, since: str | None = None, options: StreamOptions | None = None
    ) -> Generator[Event, None, None]:
        """A generator of every event of `channels`; see `AsyncClient.events`."""
        return self._portal.iterate(self.aio.events(*channels, since=since, options=options))
