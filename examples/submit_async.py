"""Submit a table with asyncio and follow the job's own events (`job.{id}`) while it runs.

It aggregates `amount` by `city`: a table without those columns ends the job failed
(`unknown_column`), which is printed too.

JOBCAST_URL=http://127.0.0.1:8000 JOBCAST_API_KEY=jc_... python examples/submit_async.py sales.csv
"""

import asyncio
import sys

from jobcast.client import AsyncClient, JobCancelledError, JobFailedError
from jobcast.schemas import AggregateResult


async def main(path: str) -> int:
    async with AsyncClient() as client:
        job = await client.submit_file(
            path, "aggregate", group_by=["city"], metrics={"amount": ["sum", "mean"]}
        )
        # The job's events from its first one on; the stream reconnects and resumes by itself,
        # so nothing is missed or seen twice.
        async for event in client.events(f"job.{job.id}", since="0-0"):
            print(event.type, event.data.get("percent", ""))
            if event.type in ("job.succeeded", "job.failed", "job.cancelled"):
                break
        try:
            result = await client.result(job.id)
        except (JobFailedError, JobCancelledError) as exc:
            print(f"{exc.code}: {exc.message}")
            return 1
    assert isinstance(result, AggregateResult)  # an aggregate job's result
    for row in result.table:
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
