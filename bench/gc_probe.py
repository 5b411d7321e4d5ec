"""Run a Python module with every garbage collection timed: the storm benchmark's api wrapper.

    python -m bench.gc_probe OUT.jsonl MODULE [ARG ...]     # e.g. ... uvicorn --factory ...

Runs MODULE as `python -m MODULE ARG ...` would, with a `gc.callbacks` timer installed first,
and appends one JSON line per collection to OUT.jsonl every `FLUSH_SECONDS`: `[wall clock at
its start, generation, seconds, objects collected, uncollectable, CPU seconds of the collecting
thread]`. The CPU time tells a collection that walks too much from one whose process the kernel
took off the CPU midway (on a saturated machine the wall time is mostly the latter). (Not at
exit: uvicorn ends by raising the SIGTERM it caught again, which skips `atexit`.) Nothing of it
lives in the product: the bench starts the api through this wrapper instead of `python -m uvicorn`.

With `BENCH_GC_STOCK=1` in the environment, `gc.freeze` and `gc.set_threshold` do nothing, so the
same api runs on the stock collector: the storm bench's "before" side, in the same run.
"""

from __future__ import annotations

import gc
import json
import os
import runpy
import sys
import threading
import time
from pathlib import Path
from typing import Any

#: Seconds between writes of the collections seen (the last ones before a stop may be lost).
FLUSH_SECONDS = 0.2
#: [wall clock at start, generation, seconds, collected, uncollectable, thread CPU seconds],
#: one per collection.
Record = tuple[float, int, float, int, int, float]


class CollectionTimer:
    def __init__(self) -> None:
        self.records: list[Record] = []
        self._started = (0.0, 0.0, 0.0)

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = (time.time(), time.perf_counter(), time.thread_time())
            return
        cpu = time.thread_time()
        wall, began, cpu_began = self._started
        elapsed = time.perf_counter() - began
        generation, collected = info["generation"], info["collected"]
        uncollectable = info["uncollectable"]
        self.records.append((wall, generation, elapsed, collected, uncollectable, cpu - cpu_began))

    def flush_every(self, path: Path, seconds: float) -> None:
        written = 0
        with path.open("a") as out:
            while True:
                time.sleep(seconds)
                new, written = self.records[written:], len(self.records)
                out.write("".join(json.dumps(record) + "\n" for record in new))
                out.flush()


def read(path: Path) -> list[Record]:
    """The collections a probed process wrote (empty when it wrote nothing)."""
    if not path.exists():
        return []
    return [tuple(json.loads(line)) for line in path.read_text().splitlines()]  # type: ignore[misc]


def _stock_collector() -> None:
    def ignored(*_: Any) -> None:
        return None

    gc.freeze = ignored
    gc.set_threshold = ignored


def main() -> None:
    out, module, *args = sys.argv[1:]
    if os.environ.get("BENCH_GC_STOCK") == "1":
        _stock_collector()
    timer = CollectionTimer()
    gc.callbacks.append(timer)
    writer = threading.Thread(target=timer.flush_every, args=(Path(out), FLUSH_SECONDS))
    writer.daemon = True
    writer.start()
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
