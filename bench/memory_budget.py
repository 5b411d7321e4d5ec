"""Peak RSS of a file job against its memory budget: `python bench/memory_budget.py [--size 1G]`.

Writes a CSV of `--size` bytes (the memory test's columns), then for each budget runs the job
(`run_job`, as a worker's pool process does, with its allocator set up the same way) in a fresh
process and prints that process's peak resident size (`VmHWM`), the part of it above the
process's size before the job, and the time. Prints one table row per budget:

    op        budget  peak  peak/budget  before  seconds
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.files import parse_size  # noqa: E402
from tests.workers.files.support import write_large_csv  # noqa: E402

MiB = 1024**2
#: A job in a fresh process: prints its peak, its size before the job, and the seconds taken.
CHILD = """
import json, sys, time
from dataclasses import replace
from pathlib import Path
from jobcast.jobs.params import JobParams
from jobcast.settings import Settings
from workers.files.memory import JobMemory
from workers.files.runner import Hooks, run_job
from workers.files.tasks import limits_for
from workers.files.watchdog import resident_bytes
path, budget, params = Path(sys.argv[1]), int(sys.argv[2]), JobParams(**json.loads(sys.argv[3]))
limits = replace(limits_for(Settings()), memory_budget=budget)
with JobMemory() as memory:
    before, started = resident_bytes(), time.monotonic()
    run_job(path, params, limits, Hooks(), path.with_suffix(".out"))
    seconds = time.monotonic() - started
print(json.dumps({"peak": memory.peak, "before": before, "seconds": seconds}))
"""
OPERATIONS = {
    "profile": {},
    "aggregate": {
        "operation": "aggregate",
        "group_by": ["city"],
        "metrics": {"amount": ["mean", "sum"], "qty": ["max"]},
    },
}


def run_one(path: Path, budget: int, params: dict[str, object]) -> dict[str, float]:
    env = {"JOBCAST_REDIS_URL": "redis://127.0.0.1:1/0", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(budget), json.dumps(params)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1G", help="CSV size, e.g. 256M or 1G")
    parser.add_argument(
        "--budgets", default="256,320,384,512,768,1024", help="MiB, comma-separated"
    )
    parser.add_argument("--ops", default="profile,aggregate")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        path = write_large_csv(Path(tmp) / "large.csv", parse_size(args.size))
        print(
            f"{path.stat().st_size / MiB:.0f} MiB CSV written in {time.monotonic() - started:.0f} s"
        )
        print(f"{'op':<10}{'budget':>7}{'peak':>6}{'peak/budget':>13}{'before':>8}{'seconds':>9}")
        for op in args.ops.split(","):
            for budget in (int(b) * MiB for b in args.budgets.split(",")):
                got = run_one(path, budget, OPERATIONS[op])
                print(
                    f"{op:<10}{budget // MiB:>7}{got['peak'] / MiB:>6.0f}"
                    f"{got['peak'] / budget:>13.0%}{got['before'] / MiB:>8.0f}"
                    f"{got['seconds']:>9.1f}"
                )


if __name__ == "__main__":
    main()
