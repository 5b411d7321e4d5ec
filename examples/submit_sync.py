"""Submit a table and wait for its result, with progress: the synchronous client.

JOBCAST_URL=http://127.0.0.1:8000 JOBCAST_API_KEY=jc_... python examples/submit_sync.py data.csv
"""

import sys

from jobcast.client import Client, JobFailedError
from jobcast.schemas import ProfileResult


def main(path: str) -> int:
    with Client() as client:  # JOBCAST_URL / JOBCAST_API_KEY, or what `jobcast login` saved
        job = client.submit_file(
            path, on_upload=lambda sent, total: print(f"upload {sent}/{total}")
        )
        print(f"job {job.id} {job.status}")
        try:
            result = client.wait(
                job.id, timeout=600, on_progress=lambda p: print(f"{p.percent:.0f}% {p.rows} rows")
            )
        except JobFailedError as exc:
            print(f"failed: {exc.code}: {exc.message}")
            return 1
    assert isinstance(result, ProfileResult)  # a profile job (the default operation)
    print(f"{result.rows} rows, {result.columns} columns")
    for column in result.profile:
        print(f"  {column.name}: {column.type}, {column.nulls} nulls, {column.distinct} distinct")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
