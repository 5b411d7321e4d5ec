"""`Client`: the same API as `AsyncClient`, for code that does not use asyncio."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any, TypeVar

from jobcast.client.aio import AsyncClient
from jobcast.client.http import RetryCallback
from jobcast.client.multipart import UploadCallback
from jobcast.client.portal import Portal
from jobcast.client.reading import Reading
from jobcast.client.resume import Event
from jobcast.client.retry import RetryPolicy
from jobcast.client.stream import StreamOptions
from jobcast.client.waiting import ProgressCallback, ReachableCallback
from jobcast.schemas import (
    BookDepth,
    FillList,
    Job,
    JobResult,
    Me,
    Order,
    OrderBatchResult,
    Quote,
    SymbolInfo,
    TradeList,
)

Method = TypeVar("Method", bound=Callable[..., Any])


def same_as(async_method: Callable[..., Any]) -> Callable[[Method], Method]:
    """Give the sync method the async one's docstring, so `help()` says one thing for both;
    that their arguments match is tested (tests/client/test_sync.py)."""

    def document(method: Method) -> Method:
        method.__doc__ = async_method.__doc__
        return method

    return document


class Client:
    """A Jobcast API client for code that does not use asyncio: each method of `AsyncClient`,
    taking the same arguments, returns its value (a generator where that one iterates).

    `base_url` and `api_key` default to `JOBCAST_URL` / `JOBCAST_API_KEY`, then to what
    `jobcast login` saved (its address only with its own key), then to the api of a local
    `jobcast up` (see `jobcast.client.config`). Use it as `with Client() as client:`.

    `timeout`, `retry`, `on_retry` and `stream_options` are `AsyncClient`'s: `timeout` bounds
    each step of a request, waiting for the answer included (an upload's answer, sent once
    the file is stored, gets up to 300 s); a server that says nothing for that long raises
    UnavailableError `no_answer` once the retries run out.

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

    def ctrl_c_recorded(self) -> AbstractContextManager[None]:
        """`with client.ctrl_c_recorded():` Ctrl-C in the block, called from the main thread,
        is never lost: it cancels the call under way (in any thread) and raises
        KeyboardInterrupt from it, or from the next call, or on leaving the block if no call
        followed. (Outside one, it raises wherever your code is, as Python's does.)"""
        return self._portal.ctrl_c_recorded()

    @same_as(AsyncClient.aclose)
    def close(self) -> None:
        if self._portal.closed:  # closing twice does nothing, as for a file
            return
        self._portal.run(self.aio.aclose())
        self._portal.close()

    @same_as(AsyncClient.submit_file)
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

    @same_as(AsyncClient.job)
    def job(self, job_id: str, *, retries: int | None = None) -> Job:
        return self._portal.run(self.aio.job(job_id, retries=retries))

    @same_as(AsyncClient.jobs)
    def jobs(self, status: str | None = None, page_size: int = 50) -> Generator[Job, None, None]:
        return self._portal.iterate(self.aio.jobs(status, page_size))

    @same_as(AsyncClient.cancel)
    def cancel(self, job_id: str) -> Job:
        return self._portal.run(self.aio.cancel(job_id))

    @same_as(AsyncClient.result)
    def result(self, job_id: str, *, retries: int | None = None) -> JobResult:
        return self._portal.run(self.aio.result(job_id, retries=retries))

    @same_as(AsyncClient.download)
    def download(self, job_id: str, path: str | Path, *, overwrite: bool = True) -> Path:
        return self._portal.run(self.aio.download(job_id, path, overwrite=overwrite))

    @same_as(AsyncClient.download_into)
    def download_into(self, job_id: str, out: IO[bytes]) -> int:
        return self._portal.run(self.aio.download_into(job_id, out))

    @same_as(AsyncClient.wait)
    def wait(
        self,
        job_id: str,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        on_reachable: ReachableCallback | None = None,
    ) -> JobResult:
        return self._portal.run(self.aio.wait(job_id, timeout, on_progress, on_reachable))

    @same_as(AsyncClient.place)
    def place(
        self,
        symbol: str,
        side: str,
        quantity: int,
        price: str | None = None,
        *,
        type: str = "limit",
        time_in_force: str | None = None,
        client_order_id: str | None = None,
        self_trade_prevention: str = "none",
    ) -> Order:
        return self._portal.run(
            self.aio.place(
                symbol,
                side,
                quantity,
                price,
                type=type,
                time_in_force=time_in_force,
                client_order_id=client_order_id,
                self_trade_prevention=self_trade_prevention,
            )
        )

    @same_as(AsyncClient.place_batch)
    def place_batch(self, orders: Iterable[Mapping[str, Any]]) -> OrderBatchResult:
        return self._portal.run(self.aio.place_batch(orders))

    @same_as(AsyncClient.cancel_order)
    def cancel_order(self, order_id: str) -> Order:
        return self._portal.run(self.aio.cancel_order(order_id))

    @same_as(AsyncClient.order)
    def order(self, order_id: str) -> Order:
        return self._portal.run(self.aio.order(order_id))

    @same_as(AsyncClient.orders)
    def orders(
        self,
        symbol: str | None = None,
        status: str | None = None,
        page_size: int = 100,
        *,
        newest_first: bool = False,
    ) -> Generator[Order, None, None]:
        orders = self.aio.orders(symbol, status, page_size, newest_first=newest_first)
        return self._portal.iterate(orders)

    @same_as(AsyncClient.me)
    def me(self) -> Me:
        return self._portal.run(self.aio.me())

    @same_as(AsyncClient.symbols)
    def symbols(self) -> list[SymbolInfo]:
        return self._portal.run(self.aio.symbols())

    @same_as(AsyncClient.quote)
    def quote(self, symbol: str) -> Quote:
        return self._portal.run(self.aio.quote(symbol))

    @same_as(AsyncClient.book)
    def book(self, symbol: str, depth: int = 10) -> BookDepth:
        return self._portal.run(self.aio.book(symbol, depth))

    @same_as(AsyncClient.trades)
    def trades(self, symbol: str, limit: int = 50) -> TradeList:
        return self._portal.run(self.aio.trades(symbol, limit))

    @same_as(AsyncClient.fills)
    def fills(self, symbol: str, limit: int = 50) -> FillList:
        return self._portal.run(self.aio.fills(symbol, limit))

    @same_as(AsyncClient.events)
    def events(
        self, *channels: str, since: str | None = None, options: StreamOptions | None = None
    ) -> Generator[Event, None, None]:
        return self._portal.iterate(self.aio.events(*channels, since=since, options=options))
