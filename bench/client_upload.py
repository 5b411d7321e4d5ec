"""Client memory while uploading a big file: `python bench/client_upload.py [--size 1G]`.

Writes a CSV of `--size` bytes under the system temp directory, starts an embedded Redis and one
api process, and submits the file with `jobcast.client.Client` from a separate process that
reports its own peak RSS (before and after the upload) and the upload rate. The upload is
streamed, so the peak should not grow with the file. No worker runs: the job stays queued; the
file, the stored upload and the Redis data are deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import redis  # noqa: E402

from jobcast.embedded_redis import free_port  # noqa: E402
from jobcast.keys import create_key  # noqa: E402
from tests.support.processes import api_argv, http_ok, process_env, spawn, wait_for  # noqa: E402
from tests.support.stack import start_private_redis  # noqa: E402

UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3}
MiB = 1024**2

#: Runs in the measured process: only the client is imported, as a user's program would.
CHILD = """
import json, resource, sys, time
from jobcast.client import Client
url, key, path = sys.argv[1:4]
with Client(url, key, timeout=600) as client:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    started = time.monotonic()
    job = client.submit_file(path)
    seconds = time.monotonic() - started
    client.cancel(job.id)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
figures = {"size": job.size, "seconds": seconds, "peak_before": before, "peak_after": after}
print(json.dumps(figures))
"""


def parse_size(text: str) -> int:
    unit = UNITS.get(text[-1].upper())
    return int(float(text[:-1]) * unit) if unit else int(text)


def write_file(path: Path, size: int) -> None:
    """A CSV of about `size` bytes, written a MiB at a time."""
    lines = [f"{i},name{i % 97},{i * 0.5},city{i % 13}\n" for i in range(40_000)]
    block = ("id,name,amount,city\n" + "".join(lines)).encode()[:MiB]
    block = block[: block.rindex(b"\n") + 1]
    with path.open("wb") as out:
        written = 0
        while written < size:
            written += out.write(block)


def measure(url: str, key: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, url, key, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1G", help="file size, e.g. 200M, 1G")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jobcast-bench-client-") as tmp:
        workdir = Path(tmp)
        _, redis_proc, settings = start_private_redis(workdir)
        port = free_port()
        api = spawn("api", api_argv(port), process_env(settings), workdir)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for(lambda: http_ok(f"{url}/healthz"), 60, "the api", api)
            client = redis.Redis.from_url(settings.broker_url)
            key, _ = create_key(client, settings.secret("key_secret"), "bench")
            data = workdir / "data.csv"
            write_file(data, parse_size(args.size))
            figures = measure(url, key, data)
        finally:
            api.stop()
            redis_proc.terminate()
            redis_proc.wait(timeout=10)
    size_mb = figures["size"] / 1e6
    print(
        f"uploaded {size_mb:,.0f} MB in {figures['seconds']:.1f} s "
        f"({size_mb / figures['seconds']:,.0f} MB/s)"
    )
    print(
        f"client peak RSS: {figures['peak_before'] / MiB:.1f} MiB before the upload, "
        f"{figures['peak_after'] / MiB:.1f} MiB after"
    )


if __name__ == "__main__":
    main()
