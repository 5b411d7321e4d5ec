"""Creating a job against a listing that runs between its Redis round trips (real Redis).

A `GET /jobs` may run at any moment of another request's `create_job`. Here a listing runs
before every round trip `create_job` makes, on the same Redis, so any moment where the owner's
index names a job whose record is not written yet is hit on every run, not by chance.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis

from api.job_store import Claim, create_job, list_jobs, new_job_id
from api.uploads import Upload
from jobcast.jobs.params import JobParams
from jobcast.keys import Principal
from jobcast.settings import Settings

RETENTION = 3600


class ListingBeforeEachStep:
    """A client for `create_job` that lists the owner's jobs before each of its round trips."""

    def __init__(self, client: aioredis.Redis, owner: Principal) -> None:
        self.client, self.owner, self.listed = client, owner, 0

    async def list_now(self) -> None:
        await list_jobs(self.client, self.owner, None, 50, None)
        self.listed += 1

    def pipeline(self, transaction: bool = True) -> Any:
        pipe = self.client.pipeline(transaction=transaction)
        execute = pipe.execute

        async def execute_after_listing(*args: Any, **kwargs: Any) -> Any:
            await self.list_now()
            return await execute(*args, **kwargs)

        pipe.execute = execute_after_listing  # type: ignore[method-assign]
        return pipe

    async def eval(self, *args: Any) -> Any:
        await self.list_now()
        return await self.client.eval(*args)  # type: ignore[no-untyped-call]

    async def evalsha(self, *args: Any) -> Any:
        await self.list_now()
        return await self.client.evalsha(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


async def create_while_listing(settings: Settings) -> tuple[str, list[str], int]:
    client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
    owner = Principal(id="p_lister", name="lister")
    racing = ListingBeforeEachStep(client, owner)
    upload = Upload(stored="s.csv", size=3, sha256="0" * 64, filename="a.csv")
    job_id = new_job_id()
    try:
        await create_job(racing, owner, job_id, upload, JobParams(), None, RETENTION)  # type: ignore[arg-type]
        listed, _ = await list_jobs(client, owner, None, 50, None)
    finally:
        await client.aclose()
    return job_id, [str(r["id"]) for r in listed], racing.listed


def test_a_job_created_while_its_owner_lists_stays_in_the_list(settings: Settings) -> None:
    job_id, listed, listings = asyncio.run(create_while_listing(settings))
    assert listings >= 1  # the seam did run a listing inside create_job
    assert listed == [job_id]


async def create_at_once(
    settings: Settings, times: int
) -> tuple[list[tuple[str, bool]], list[str]]:
    client = aioredis.Redis.from_url(settings.broker_url, decode_responses=True)
    owner = Principal(id="p_twice", name="twice")
    upload = Upload(stored="s.csv", size=3, sha256="1" * 64, filename="a.csv")
    claim = Claim("same-key", "f" * 64)
    try:
        answers = await asyncio.gather(
            *(
                create_job(client, owner, new_job_id(), upload, JobParams(), claim, RETENTION)
                for _ in range(times)
            )
        )
        listed, _ = await list_jobs(client, owner, None, 50, None)
    finally:
        await client.aclose()
    return [(str(r["id"]), new) for r, new in answers], [str(r["id"]) for r in listed]


def test_one_idempotency_key_sent_many_times_at_once_makes_one_job(settings: Settings) -> None:
    answers, listed = asyncio.run(create_at_once(settings, 8))
    assert [new for _, new in answers].count(True) == 1
    assert {job_id for job_id, _ in answers} == set(listed)
    assert len(listed) == 1
