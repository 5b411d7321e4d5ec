"""The quota side of an upload: reserve bytes ahead of what arrives, settle or release at the end.

An upload holds a `streaming:` entry in its owner's ledger (`jobcast.quotas`) sized ahead of
the bytes received: the declared Content-Length when there is one, else one step at a time.
Past the quota the request ends at once (413) and the partial file is removed by the receiver;
a principal over its concurrent uploads, or with as many file jobs queued or running as its cap,
is refused before a byte is stored (429).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import redis.asyncio as aioredis

from api.errors import ApiError
from jobcast import quotas, rediskeys, scripts
from jobcast.settings import Settings

#: Bytes reserved at a time when the body's length is not declared.
STEP = 8 * 1024**2
#: Seconds between refreshes of a slow upload's reservation (well under its expiry).
REFRESH_EVERY = quotas.STREAMING_TTL / 5
#: `Retry-After` of a `too_many_uploads` 429. When a slot frees depends on the other uploads'
#: sizes and links, which the api cannot know: this is a poll interval, not a promise. A retry
#: refused again costs the server its headers only (the refusal comes before the body is read).
UPLOAD_SLOT_RETRY_S = 5
#: `Retry-After` of a `too_many_active_jobs` 429. A file job runs for seconds to minutes, and
#: which of the principal's ends first is not known when the upload is refused: a poll interval
#: again (a client following `user.me` learns of a job's end sooner).
ACTIVE_JOB_RETRY_S = 10


def over_bytes(limit: int, used: int, wanted: int) -> ApiError:
    return ApiError(
        413,
        "storage_quota_exceeded",
        f"This upload needs at least {wanted} bytes, but your stored files already use {used} of "
        f"your "
        f"{limit}-byte quota (uploads waiting for their job, converted files until they "
        "expire). Wait for your queued jobs to finish or your converted files to expire, or "
        "upload a smaller file.",
        {"quota_bytes": limit, "used_bytes": used, "needed_bytes": wanted},
    )


def over_uploads(limit: int) -> ApiError:
    return ApiError(
        429,
        "too_many_uploads",
        f"You already have {limit} uploads in progress, the most allowed at once; "
        "send this one when one of them has finished.",
        {"concurrent_uploads": limit},
        headers={"Retry-After": str(UPLOAD_SLOT_RETRY_S)},
    )


def over_active_jobs(limit: int) -> ApiError:
    return ApiError(
        429,
        "too_many_active_jobs",
        f"You have {limit} file jobs queued or running, the most allowed at once "
        "(JOBCAST_QUOTA_ACTIVE_JOBS); submit more when some have finished.",
        {"active_jobs": limit},
        headers={"Retry-After": str(ACTIVE_JOB_RETRY_S)},
    )


#: Runs a reservation (the ledger, `quota_reserve.lua`'s arguments) together with the request's
#: rate-limit spend, in one round trip: its raw reply (`api.auth.Submitter.spend_and_reserve`).
SpendAndReserve = Callable[[str, list[Any]], Awaitable[list[int]]]


class UploadQuota:
    """One upload's reservation in its owner's ledger."""

    def __init__(
        self,
        redis: aioredis.Redis,
        settings: Settings,
        owner: str,
        replay: bool = False,
        spending: SpendAndReserve | None = None,
    ) -> None:
        """`replay`: the upload retries a job that exists (its Idempotency-Key is taken), so it
        makes no new job and the cap on jobs queued or running does not apply to it.
        `spending`: the first reservation goes with the request's spend (one round trip, not
        two)."""
        self._redis, self._owner, self._spending = redis, owner, spending
        limits = quotas.Limits.of(settings)
        self._limits = replace(limits, max_active=0) if replay else limits
        self._upload_ttl = float(settings.job_retention)
        self._entry = quotas.streaming_entry(secrets.token_hex(8))
        self._reserved, self._refreshed = 0, 0.0
        #: The owner's file jobs queued or running when this upload began (its first
        #: reservation's count): where its job is queued (`jobcast.files_priority`).
        self.active_jobs = 0
        #: Whether the ledger may hold this upload's entry (a reservation was sent, even one
        #: whose answer was lost): releasing twice would cost a round trip for nothing.
        self._held = False

    async def begin(self, declared: int | None) -> None:
        """Take an upload slot and reserve the declared size (or a first step, if it fits)."""
        if declared is not None:
            self.active_jobs = await self._reserve(declared, declared)
        else:
            self.active_jobs = await self._reserve(STEP, 0)

    async def cover(self, received: int) -> None:
        """Reserve ahead of `received` bytes, and keep a slow upload's reservation alive."""
        if received > self._reserved:
            await self._reserve(received + STEP, received)
        elif time.monotonic() - self._refreshed > REFRESH_EVERY:
            await self._reserve(self._reserved, self._reserved)

    async def queue_settle(self, pipe: aioredis.client.Pipeline, stored: str, size: int) -> None:
        """The upload is stored: it now holds `size` bytes until its job ends, in place of its
        reservation. Queued on a pipeline (the MULTI that creates the upload's job); once that
        has run, `settled` says so."""
        ledger = rediskeys.quota_ledger_key(self._owner)
        entry = quotas.upload_entry(stored)
        args = quotas.reserve_args(entry, size, self._upload_ttl, quotas.NO_LIMITS)
        await scripts.run_async(pipe, "quota_reserve", [ledger], args)
        pipe.hdel(ledger, self._entry)

    def settled(self) -> None:
        """The queued `settle` ran: the reservation is gone, nothing is left to release."""
        self._held = False

    async def release(self) -> None:
        if self._held:
            await self._redis.hdel(rediskeys.quota_ledger_key(self._owner), self._entry)
            self._held = False

    async def _reserve(self, ahead: int, needed: int) -> int:
        """Reserve `ahead` bytes, or only the `needed` ones when `ahead` would not fit; the
        owner's file jobs queued or running."""
        self._held = True
        result = await self._write(self._entry, ahead, quotas.STREAMING_TTL, self._limits)
        if result.verdict == quotas.OVER_BYTES and needed < ahead:
            ahead = needed
            result = await self._write(self._entry, ahead, quotas.STREAMING_TTL, self._limits)
        if result.verdict == quotas.OVER_UPLOADS:
            raise over_uploads(self._limits.max_streaming)
        if result.verdict == quotas.OVER_ACTIVE_JOBS:
            raise over_active_jobs(self._limits.max_active)
        if result.verdict == quotas.OVER_BYTES:
            raise over_bytes(self._limits.max_bytes, result.used, needed)
        self._reserved, self._refreshed = ahead, time.monotonic()
        return result.active

    async def _write(
        self, entry: str, size: int, ttl: float, limits: quotas.Limits
    ) -> quotas.Reservation:
        args = quotas.reserve_args(entry, size, ttl, limits)
        ledger = rediskeys.quota_ledger_key(self._owner)
        spending, self._spending = self._spending, None  # the request is spent once
        if spending is not None:
            return quotas.reservation(await spending(ledger, args))
        return quotas.reservation(
            await scripts.run_async(self._redis, "quota_reserve", [ledger], args)
        )
