"""`AsyncClient`: the whole public API from asyncio code (files, orders, market, events)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from pydantic import TypeAdapter, ValidationError

from jobcast.client import errors
from jobcast.client.config import resolve, retry_policy
from jobcast.client.http import Http, RetryCallback
from jobcast.client.multipart import FileBody, UploadCallback
from jobcast.client.paths import job_path, market_path, order_path
from jobcast.client.reading import Reading
from jobcast.client.resume import Event
from jobcast.client.retry import RetryPolicy
from jobcast.client.saving import move_into, partial_beside
from jobcast.client.stream import StreamOptions, events
from jobcast.client.waiting import (
    ProgressCallback,
    ReachableCallback,
    raise_outcome,
    wait_for_job,
)
from jobcast.jobs.params import SUBMITTED, JobParams
from jobcast.schemas import (
    BookDepth,
    FillList,
    Job,
    JobPage,
    JobResult,
    Me,
    Order,
    OrderBatchResult,
    OrderPage,
    Quote,
    SymbolInfo,
    SymbolList,
    TradeList,
)
from jobcast.schemas.errors import field_errors, summary

_RESULT: TypeAdapter[JobResult] = TypeAdapter(JobResult)


class AsyncClient:
    """A Jobcast API client for asyncio.

    `base_url` and `api_key` default to `JOBCAST_URL` / `JOBCAST_API_KEY`, then to what
    `jobcast login` saved (its address only with its own key), then to the api of a local
    `jobcast up` (see `jobcast.client.config`). Use it as `async with AsyncClient() as client:`.

    `timeout`: seconds each step of a request may take: connecting, sending a chunk, waiting
    for the answer or for its next chunk (a download that keeps sending is never cut). A server
    that says nothing for that long raises UnavailableError `no_answer` once the retries run
    out. An upload waits longer for its answer, which comes once the file is stored:
    `http.UPLOAD_ANSWER_TIMEOUT` (300 s) or `timeout` if longer. `retry` (a `RetryPolicy`):
    how a request that may be sent again is retried (by default 4 retries, or
    `JOBCAST_MAX_RETRIES`); `on_retry` is told of each retry.
    `stream_options`: the `StreamOptions` of `events()` when it is given none.
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
        self.config = resolve(base_url, api_key)
        self.stream_options = stream_options or StreamOptions()
        self._http = Http(self.config, retry or retry_policy(), timeout, on_retry)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client's connections; `async with` does it on leaving. A closed client
        raises ClientClosedError when used; closing it again does nothing."""
        await self._http.close()

    # -- file jobs ----------------------------------------------------------------------------

    async def submit_file(
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
        """Upload a table (streamed from disk, never held in memory) and queue its job;
        `reading` says how to read it where the server's detection is not right.

        Without `idempotency_key` a submit is sent again only after a 429 or a 408
        `upload_stalled` (the server kept nothing); with one, also after a 503 or a dropped
        connection, and a repeat returns the same job. A file that cannot seek is sent once.
        `on_upload(sent, total)` is called as bytes go out.
        """
        self._http.require_open()
        # Both checked before a byte is sent: a file may be gigabytes.
        params = job_params(operation, group_by, metrics, to, reading)
        self.config.require_key()
        body = FileBody(file, params, on_upload)
        # An empty key is sent, for the server to refuse: taken as none, a retry the caller
        # meant to be safe could make a second job.
        keyed = idempotency_key is not None
        headers = {"Idempotency-Key": idempotency_key} if keyed else None
        try:
            answer = await self._http.json(
                "POST", "/jobs", body=body, headers=headers, repeatable=keyed
            )
        finally:
            body.close()
        return Job.model_validate(answer)

    async def job(self, job_id: str, *, retries: int | None = None) -> Job:
        """The job as it is now: its status, its progress and, if it failed, its error.
        `retries`: at most this many retries of this request (None: as the client's `retry`
        policy says; 0: one try, for a caller that polls with its own backoff)."""
        answer = await self._http.json("GET", job_path(job_id), retries=retries)
        return Job.model_validate(answer)

    async def jobs(self, status: str | None = None, page_size: int = 50) -> AsyncIterator[Job]:
        """Every job of yours, newest first, page after page."""
        cursor: str | None = None
        while True:
            query = _query(status=status, limit=page_size, cursor=cursor)
            page = JobPage.model_validate(await self._http.json("GET", "/jobs", params=query))
            for job in page.items:
                yield job
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def cancel(self, job_id: str) -> Job:
        """Cancel the job: a queued one never runs, a running one stops at its next batch.
        A job that already ended raises ConflictError `already_finished`."""
        return Job.model_validate(await self._http.json("DELETE", job_path(job_id)))

    async def result(self, job_id: str, *, retries: int | None = None) -> JobResult:
        """The result, typed by its operation (ProfileResult, AggregateResult, ConvertResult).
        A job that ended failed raises JobFailedError with its own error (code and message),
        as `wait` does; cancelled, JobCancelledError. `retries` as in `job`."""
        with _ended_raises(job_id):
            answer = await self._http.json("GET", job_path(job_id, "/result"), retries=retries)
        return _RESULT.validate_python(answer)

    async def download(self, job_id: str, path: str | Path, *, overwrite: bool = True) -> Path:
        """Save a `convert` job's file to `path`, streamed to disk. It is written beside `path`
        and moved there once complete, so a failed download leaves no partial file behind.
        With `overwrite=False` a file at `path` when the download ends (even one made while it
        ran) is kept, and FileExistsError raised."""
        path = Path(path)
        with partial_beside(path) as partial:
            with partial.open("wb") as out:
                await self.download_into(job_id, out)
            move_into(partial, path, overwrite=overwrite)
        return path

    async def download_into(self, job_id: str, out: IO[bytes]) -> int:
        """Write a `convert` job's file to `out` (e.g. `sys.stdout.buffer`) as it arrives;
        returns the bytes written. A download cut short leaves what came written."""
        written = 0
        with _ended_raises(job_id):
            async with self._http.stream("GET", job_path(job_id, "/artifact")) as response:
                async for chunk in response.aiter_bytes():
                    out.write(chunk)
                    written += len(chunk)
        return written

    async def wait(
        self,
        job_id: str,
        timeout: float | None = None,  # noqa: ASYNC109 (the public name, as in wait_for)
        on_progress: ProgressCallback | None = None,
        on_reachable: ReachableCallback | None = None,
    ) -> JobResult:
        """Wait for the job to end, on pushed events (polling if no WebSocket can be opened).

        Returns its result; raises JobFailedError (with the job's error code),
        JobCancelledError, or WaitTimeoutError after `timeout` seconds (None: no limit). An api
        that stops answering (a restart, a network cut) is tried again, backing off up to 5 s
        between tries, until the job ends or `timeout` passes: only a refusal that cannot
        change (401, 403, 404, 410) ends the wait early. `on_reachable(False)` is called once
        when the api stops answering, `on_reachable(True)` once it answers again.
        """
        return await wait_for_job(self, job_id, timeout, on_progress, on_reachable)

    # -- orders and market data ---------------------------------------------------------------

    async def place(
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
        """Place one order: `side` "buy" or "sell"; `price` decimal text on the symbol's tick
        (a limit order's; none for `type="market"`); `time_in_force` "GTC" or "IOC";
        `self_trade_prevention` "none", "cancel_newest" or "cancel_oldest" (should it meet a
        resting order of yours). With `client_order_id` a retried placement returns the first."""
        body = _query(
            symbol=symbol,
            side=side,
            quantity=quantity,
            price=price,
            type=type,
            time_in_force=time_in_force,
            client_order_id=client_order_id,
            self_trade_prevention=self_trade_prevention,
        )
        repeatable = client_order_id is not None
        return Order.model_validate(
            await self._http.json("POST", "/orders", json=body, repeatable=repeatable)
        )

    async def place_batch(self, orders: Iterable[Mapping[str, Any]]) -> OrderBatchResult:
        """Place several orders at once; each is accepted or rejected on its own."""
        body = {"orders": [dict(order) for order in orders]}
        return OrderBatchResult.model_validate(
            await self._http.json("POST", "/orders/batch", json=body, repeatable=False)
        )

    async def cancel_order(self, order_id: str) -> Order:
        """Ask for a resting order to be cancelled: queued behind what its symbol already
        accepted, confirmed by an `order.cancelled` event. An order no longer open raises
        ConflictError `order_not_open`."""
        return Order.model_validate(await self._http.json("DELETE", order_path(order_id)))

    async def order(self, order_id: str) -> Order:
        """The order as it is now: its status, quantity filled and average fill price."""
        return Order.model_validate(await self._http.json("GET", order_path(order_id)))

    async def orders(
        self,
        symbol: str | None = None,
        status: str | None = None,
        page_size: int = 100,
        *,
        newest_first: bool = False,
    ) -> AsyncIterator[Order]:
        """Every order of yours (optionally of one symbol or status), oldest first, or with
        `newest_first` the most recently placed first."""
        cursor: str | None = None
        sort = "newest" if newest_first else None
        while True:
            query = _query(symbol=symbol, status=status, limit=page_size, cursor=cursor, sort=sort)
            page = OrderPage.model_validate(await self._http.json("GET", "/orders", params=query))
            for order in page.items:
                yield order
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def me(self) -> Me:
        """Who the key acts for and the limits it works within: a check that the address and
        the key both work."""
        return Me.model_validate(await self._http.json("GET", "/me"))

    async def symbols(self) -> list[SymbolInfo]:
        """The traded symbols and the rules an order for each must meet (tick, lot, limits)."""
        return SymbolList.model_validate(await self._http.json("GET", "/market")).symbols

    async def quote(self, symbol: str) -> Quote:
        """The top of the symbol's book: best bid and ask, their sizes, the last price."""
        return Quote.model_validate(await self._http.json("GET", market_path(symbol)))

    async def book(self, symbol: str, depth: int = 10) -> BookDepth:
        """The symbol's order book: up to `depth` price levels on each side."""
        answer = await self._http.json("GET", market_path(symbol, "/book"), params={"depth": depth})
        return BookDepth.model_validate(answer)

    async def trades(self, symbol: str, limit: int = 50) -> TradeList:
        """The symbol's most recent trades, up to `limit`, newest first."""
        answer = await self._http.json(
            "GET", market_path(symbol, "/trades"), params={"limit": limit}
        )
        return TradeList.model_validate(answer)

    async def fills(self, symbol: str, limit: int = 50) -> FillList:
        """Your fills among the symbol's `limit` most recent trades, newest first: each with
        your order's id and side (the trades themselves name no order)."""
        answer = await self._http.json(
            "GET", market_path(symbol, "/fills"), params={"limit": limit}
        )
        return FillList.model_validate(answer)

    # -- events -------------------------------------------------------------------------------

    def events(
        self, *channels: str, since: str | None = None, options: StreamOptions | None = None
    ) -> AsyncGenerator[Event, None]:
        """Every event of `channels` (e.g. "user.me", "job.<id>", "market.BTC-USD"), once each,
        in order, reconnecting and resuming across drops; a `resync` event means the server
        lost some and the channel starts afresh."""
        self._http.require_open()  # the events' own connections are not the client's, but
        key = self.config.require_key()  # a closed client is closed for all it does
        options = options or self.stream_options
        return events(self.config.base_url, key, channels, since, options)


def job_params(
    operation: str,
    group_by: Iterable[str],
    metrics: Mapping[str, Iterable[str]] | None,
    to: str | None,
    reading: Reading | None = None,
) -> dict[str, Any]:
    """A job's `params`, checked by the rules the server applies (`jobcast.jobs.params`):
    InvalidRequestError (`invalid_params`, 422, the server's answer) names what is wrong."""
    params: dict[str, Any] = {"operation": operation, **(reading or Reading()).params()}
    if group_by:
        params["group_by"] = list(group_by)
    if metrics:
        params["metrics"] = {column: list(fns) for column, fns in metrics.items()}
    if to is not None:
        params["to"] = to
    try:
        JobParams.model_validate(params, context=SUBMITTED)
    except ValidationError as exc:
        details = field_errors(exc.errors(), "params")
        raise errors.InvalidRequestError(
            "invalid_params", summary(details), details, status=422, local=True
        ) from None
    return params


def _query(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@contextlib.contextmanager
def _ended_raises(job_id: str) -> Iterator[None]:
    """A 409 for a job that ended failed or cancelled, as the job's own outcome error."""
    try:
        yield
    except errors.ConflictError as exc:
        if exc.code in ("job_failed", "job_cancelled"):
            error = exc.details if isinstance(exc.details, dict) else None
            raise_outcome(job_id, exc.code.removeprefix("job_"), error, answer=exc)
        raise
