"""`make bench`: every benchmark, at sizes that finish in about 10 minutes on 2 cores, then one
table of issue 15's goals (figure, Jobcast, reference, ratio, goal, met?).

Each benchmark runs as its own process (each starts and stops its own Redis, servers and
workers, and its references in the same run) and writes its figures as JSON; its usual report
goes to the terminal as it runs. `--quick` runs tiny sizes: it checks the harness works, its
figures mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.goals import Figures, all_rows  # noqa: E402
from bench.table import render, summary  # noqa: E402

#: name -> (script, full-size arguments, quick arguments)
BENCHES: dict[str, tuple[str, str, str]] = {
    "front": (
        "front.py",
        "--seconds 5 --rounds 2",
        "--seconds 1 --rounds 1 --connections 8 --single-seconds 1",
    ),
    "jobs": ("jobs.py", "--jobs 400 --rounds 2", "--jobs 40 --rounds 1 --step-jobs 5"),
    # At 100 MB a side's first run is mostly start-up (a fresh api's and pool process's first
    # large upload and job: 1.0 s against 0.5 s after, 2026-12-03), so best of three, each side
    # alternated; the larger points take long enough for one run each.
    "files": ("files.py", "--size 100M --repeat 3", "--size 5M"),
    # P5 names 100 MB, 500 MB and 1 GB: each point is its own run (measured 2026-12-02 at load
    # ~3.3: 15 s for 500 MB, 35 s for 1 GB, writing the CSV and pandas' 3.3 GiB frame included).
    "files-500M": ("files.py", "--size 500M", "--size 12M"),
    "files-1G": ("files.py", "--size 1G", "--size 20M"),
    # Two alternated rounds of each side, best of each (orders.py's default): a side's first run
    # on the fresh stack used up to twice the CPU per order of its second (2026-12-03).
    "orders": (
        "orders.py",
        "--orders 20000 --baseline-orders 2000",
        "--orders 2000 --baseline-orders 200 --paced-seconds 2 --paced-rate 200",
    ),
    "ws": (
        "ws.py",
        "--clients 1000 --fanout-clients 200 --fanout-events 100 --fanout-rounds 2 --jobs 500"
        " --find-rate",
        "--clients 50 --fanout-clients 20 --fanout-events 20 --fanout-rounds 2 --jobs 40"
        " --warmup 5 --find-rate --probe-rates 20 40 --probe-seconds 1",
    ),
    "storm": ("storm.py", "--clients 5000", "--clients 100 --channels 10 --rate 20"),
}


def run_one(name: str, quick: bool, out: Path) -> Figures | None:
    script, full, small = BENCHES[name]
    argv = [sys.executable, str(REPO / "bench" / script), *(small if quick else full).split()]
    argv += ["--json", str(out)]
    print(f"\n=== {name}: {' '.join(argv[1:])}", flush=True)
    started = time.perf_counter()
    code = subprocess.call(argv, cwd=REPO)
    print(f"=== {name}: {time.perf_counter() - started:.0f} s, exit {code}", flush=True)
    if code != 0 or not out.exists():
        return None
    figures: Figures = json.loads(out.read_text())
    return figures


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; load average before: {load}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the harness only")
    parser.add_argument("--only", nargs="*", choices=list(BENCHES), help="run only these")
    args = parser.parse_args()
    header = f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {machine()}"
    started = time.perf_counter()
    results: dict[str, Figures | None] = {}
    with tempfile.TemporaryDirectory(prefix="jobcast-bench-run-") as tmp:
        for name in args.only or list(BENCHES):
            results[name] = run_one(name, args.quick, Path(tmp) / f"{name}.json")
    rows = all_rows(results)
    print(
        f"\n{header}; all benchmarks {time.perf_counter() - started:.0f} s"
        + (" (--quick: NOT a measurement)" if args.quick else "")
    )
    print(render(rows))
    print(summary(rows))
    failed = [name for name, figures in results.items() if figures is None]
    if failed:
        sys.exit(f"benchmarks that did not finish: {', '.join(failed)}")


if __name__ == "__main__":
    main()
