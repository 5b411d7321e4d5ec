"""A big upload is streamed: the client's memory does not grow with the file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.client.conftest import ClientStack
from tests.support.processes import REPO_ROOT

MiB = 1024**2
SIZE = 160 * MiB

#: The measured process imports only the client, as a user's program would.
CHILD = """
import json, resource, sys
from jobcast.client import Client
url, key, path = sys.argv[1:4]
with Client(url, key) as client:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    job = client.submit_file(path)  # zeros: the worker refuses it at once (unrecognized_format)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"size": job.size, "before": before, "after": after}))
"""


def test_uploading_160_mib_grows_the_client_peak_rss_by_under_20_mib(
    stack: ClientStack, tmp_path: Path
) -> None:
    data = tmp_path / "big.csv"
    with data.open("wb") as out:
        out.truncate(SIZE)  # sparse: fast to make, and the bytes are irrelevant here
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, stack.url, stack.key, str(data)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["size"] == SIZE
    assert figures["after"] - figures["before"] < 20 * MiB, figures
