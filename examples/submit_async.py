"""Submit a table with asyncio, following its events on `user.me` while it runs.

JOBCAST_URL=http://127.0.0.1:8000 JOBCAST_API_KEY=jc_... python examples/submit_async.py data.csv
"""

import asyncio
import sys

from jobcast.client import AsyncClient


async def main(path: str) -> None:
    async with AsyncClient() as client:
        job = await client.submit_file(
            path, "aggregate", group_by=["city"], metrics={"amount": ["sum", "mean"]}
        )
        # Every event of everything you own, from the job's first one on; the stream
        # reconnects and resumes by itself, so nothing is missed or seen twice.
        async for event in client.events(f"job.{job.id}", since="0-0"):
            print(event.type, event.data.get("percent", ""))
            if event.type in ("job.succeeded", "job.failed", "job.cancelled"):
                break
        result = await client.result(job.id)
    for row in result.table:
        print(row)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
